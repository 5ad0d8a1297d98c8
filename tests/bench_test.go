package tests

import (
	"testing"

	"github.com/hybridcloud/platform/internal/plan"
)

// BenchmarkPlanProd measures one offline plan run of prod: config load and
// validation, the whole composition under the mock cloud, and the JSON document.
func BenchmarkPlanProd(b *testing.B) {
	dir := projectDir(b)
	for b.Loop() {
		res, err := plan.Run(plan.Options{Stack: "prod", ProjectDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		_ = res.Doc()
	}
}
