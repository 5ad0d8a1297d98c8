// Package simcloud is what the simulated clouds compute: the ids and the
// outputs a real provider returns when it creates an object, the answers to
// the functions the program invokes, and a catalogue of each resource type's
// required inputs, replace-on-change properties and sensitive outputs.
//
// Two stand-ins share it: internal/mockcloud (in process, under Pulumi mocks)
// and internal/standin (provider plugins behind a real `pulumi up`), so both
// answer the program identically. Every answer is a function of the object's
// URN and inputs: two runs see identical values.
package simcloud

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Object is one object a provider is asked to create.
type Object struct {
	Type     string // type token, e.g. digitalocean:index/vpc:Vpc
	URN      string
	Name     string // the logical name in the URN
	Custom   bool   // false for component resources, which get no id
	ImportID string // set when an existing object is read or imported
	Inputs   resource.PropertyMap
}

// seed is a stable number derived from a string: ids, addresses and keys are
// functions of the URN, so two runs answer identically.
func seed(s string) uint64 {
	sum := sha256.Sum256([]byte(s))
	return binary.BigEndian.Uint64(sum[:8])
}

func hexID(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	return fmt.Sprintf("%x", sum[:])[:n]
}

// uuid renders a stable UUID-shaped id.
func uuid(s string) string {
	h := hexID(s, 32)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

// String returns a string input, looking through a secret wrapper; "" when
// absent or not a string.
func String(args resource.PropertyMap, key string) string {
	v, ok := args[resource.PropertyKey(key)]
	if ok && v.IsSecret() {
		v = v.SecretValue().Element
	}
	if ok && v.IsString() {
		return v.StringValue()
	}
	return ""
}
