package kernel

import (
	"fmt"
	"unicode/utf8"

	"github.com/shopmesh/shopmesh/meshkit/go/domainerr"
	"github.com/shopmesh/shopmesh/meshkit/go/pytext"
)

// Violations collects the violations of one request, so a domain reports every bad
// field at once (raise_violations).
type Violations []domainerr.FieldViolation

// Add keeps v unless it is nil.
func (vs *Violations) Add(v *domainerr.FieldViolation) {
	if v != nil {
		*vs = append(*vs, *v)
	}
}

// Err is one InvalidArgument listing every violation (reason INVALID_ARGUMENT), or nil.
func (vs Violations) Err() error { return vs.ErrWithReason("INVALID_ARGUMENT") }

// ErrWithReason is Err with another reason.
func (vs Violations) ErrWithReason(reason string) error {
	if len(vs) == 0 {
		return nil
	}
	return domainerr.Invalid(reason, vs...)
}

// TextViolation is the violation when value is empty, longer than maxLength characters
// or holds unprintable characters.
func TextViolation(value, field string, maxLength int) *domainerr.FieldViolation {
	length := utf8.RuneCountInString(value)
	if length < 1 || length > maxLength {
		return &domainerr.FieldViolation{
			Field: field, Description: fmt.Sprintf("must be 1 to %d characters, got %d", maxLength, length),
		}
	}
	for _, r := range value {
		if !pytext.Printable(r) {
			return &domainerr.FieldViolation{Field: field, Description: "must hold printable characters only"}
		}
	}
	return nil
}

// RangeViolation is the violation when value is outside [low, high].
func RangeViolation(value int64, field string, low, high int64) *domainerr.FieldViolation {
	if low <= value && value <= high {
		return nil
	}
	return &domainerr.FieldViolation{
		Field: field, Description: fmt.Sprintf("must be %d to %d, got %d", low, high, value),
	}
}

// IdempotencyKeyReused is the error for a key sent again with a different request.
func IdempotencyKeyReused(field, detail string) error {
	return domainerr.Invalid("IDEMPOTENCY_KEY_REUSED", domainerr.FieldViolation{
		Field: field, Description: "was used before for a different request: " + detail,
	})
}
