package plan

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/hybridcloud/platform/internal/config"
)

// Main is the plan command: it parses args, runs the plan and writes it.
// It returns the process exit code: 0 on success, 1 when the config is
// invalid, the run fails or a guardrail is violated, 2 on bad usage.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stack := fs.String("stack", "", "stack to plan: any stack with a Pulumi.<stack>.yaml, such as prod, onprem or staging")
	configFile := fs.String("config-file", "", "stack config file (default Pulumi.<stack>.yaml beside Pulumi.yaml)")
	date := fs.String("date", "", "read the support windows on this day, YYYY-MM-DD (default: today)")
	format := fs.String("format", "text", "output format: text, json or mermaid (the architecture diagram)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *stack == "" {
		fmt.Fprintln(stderr, "plan: --stack is required (the name of a Pulumi.<stack>.yaml, such as prod, onprem or staging)")
		return 2
	}
	if *format != "text" && *format != "json" && *format != "mermaid" {
		fmt.Fprintf(stderr, "plan: --format %q: want text, json or mermaid\n", *format)
		return 2
	}
	var now time.Time
	if *date != "" {
		var err error
		if now, err = time.Parse(time.DateOnly, *date); err != nil {
			fmt.Fprintf(stderr, "plan: --date %q: want YYYY-MM-DD\n", *date)
			return 2
		}
	}
	res, err := Run(Options{Stack: *stack, ConfigFile: *configFile, Now: now})
	if err != nil {
		var verr *config.ValidationError
		if errors.As(err, &verr) {
			fmt.Fprintln(stderr, verr.Error())
		} else {
			fmt.Fprintln(stderr, "plan:", err)
		}
		return 1
	}
	switch *format {
	case "json":
		if err := res.WriteJSON(stdout); err != nil {
			fmt.Fprintln(stderr, "plan:", err)
			return 1
		}
	case "mermaid":
		fmt.Fprint(stdout, res.Mermaid())
	default:
		res.WriteText(stdout)
	}
	if res.OverBudget() {
		fmt.Fprintf(stderr, "plan: estimated %.2f per month at full autoscale exceeds costBudgetUsd %d\n", res.Cost.TotalMax, res.Budget)
		return 1
	}
	if len(res.Violations) > 0 {
		fmt.Fprintf(stderr, "plan: %d guardrail violations\n", len(res.Violations))
		return 1
	}
	return 0
}
