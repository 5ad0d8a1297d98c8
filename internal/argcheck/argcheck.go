// Package argcheck collects a component's argument errors, one per field,
// each naming the field of its Args: "backup: Args.Bucket is required".
package argcheck

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Errors are one component's argument errors.
type Errors struct {
	component string
	errs      []error
}

// For starts the errors of a component (its package name).
func For(component string) *Errors { return &Errors{component: component} }

// Nil is the error for Args that were not given at all.
func Nil(component string) error { return fmt.Errorf("%s: Args are required", component) }

// Required records field as missing when missing is true.
func (e *Errors) Required(field string, missing bool) {
	if missing {
		e.errs = append(e.errs, fmt.Errorf("%s: Args.%s is required", e.component, field))
	}
}

// RequiredFor records field as missing, when missing is true, with why it
// is needed here: "required for a Talos cluster".
func (e *Errors) RequiredFor(field string, missing bool, why string) {
	if missing {
		e.errs = append(e.errs, fmt.Errorf("%s: Args.%s is required %s", e.component, field, why))
	}
}

// Invalid records that field holds a value it may not, and what it may hold.
func (e *Errors) Invalid(field, format string, a ...any) {
	e.errs = append(e.errs, fmt.Errorf("%s: Args.%s: %s", e.component, field, fmt.Sprintf(format, a...)))
}

// Err joins the errors recorded, or returns nil.
func (e *Errors) Err() error { return errors.Join(e.errs...) }

// OneOf records field as invalid unless value is one of allowed.
func (e *Errors) OneOf(field, value string, allowed ...string) {
	if !slices.Contains(allowed, value) {
		e.Invalid(field, "%q is not one of %s", value, strings.Join(allowed, ", "))
	}
}
