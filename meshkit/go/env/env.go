// Package env reads settings from SHOPMESH_* variables the way meshkit/env.py does: unset
// or blank means the default; a malformed value is a ConfigError naming the variable, and
// messages read the same as the Python ones.
package env

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/shopmesh/shopmesh/meshkit/go/pytext"
)

// Prefix of the variables every mesh service reads.
const Prefix = "SHOPMESH_"

// ConfigError is a missing or malformed setting; its message names it.
type ConfigError struct{ Message string }

func (e *ConfigError) Error() string { return e.Message }

// Errorf is a ConfigError with a formatted message.
func Errorf(format string, args ...any) error {
	return &ConfigError{fmt.Sprintf(format, args...)}
}

// Reader reads typed values of <Prefix><key> variables from one environment. The first
// malformed value is kept in Err, so a config is read in one go and checked once.
type Reader struct {
	env map[string]string
	Err error
}

// NewReader reads from env (os.Environ() as a map, in main only).
func NewReader(env map[string]string) *Reader { return &Reader{env: env} }

// Name is the full variable name of key.
func (r *Reader) Name(key string) string { return Prefix + key }

// Raw is the stripped value, or "" when the variable is unset or blank.
func (r *Reader) Raw(key string) string { return strings.TrimSpace(r.env[r.Name(key)]) }

func (r *Reader) fail(format string, args ...any) {
	if r.Err == nil {
		r.Err = Errorf(format, args...)
	}
}

// Text is the value or the default.
func (r *Reader) Text(key, def string) string {
	if raw := r.Raw(key); raw != "" {
		return raw
	}
	return def
}

// Number is a finite number >= minimum.
func (r *Reader) Number(key string, def, minimum float64) float64 {
	raw := r.Raw(key)
	if raw == "" {
		return def
	}
	value, err := strconv.ParseFloat(raw, 64)
	if err != nil && !isRangeError(err) {
		r.fail("%s must be a number, got %s", r.Name(key), pytext.Repr(raw))
		return def
	}
	if math.IsInf(value, 0) || math.IsNaN(value) || value < minimum {
		r.fail("%s must be a finite number >= %s, got %s", r.Name(key), pytext.Float(minimum), pytext.Repr(raw))
		return def
	}
	return value
}

func isRangeError(err error) bool {
	numErr, ok := err.(*strconv.NumError)
	return ok && numErr.Err == strconv.ErrRange
}

// Integer is a whole number in [minimum, maximum] (maximum < 0: no maximum).
func (r *Reader) Integer(key string, def, minimum, maximum int64) int64 {
	raw := r.Raw(key)
	if raw == "" {
		return def
	}
	value, err := strconv.ParseInt(raw, 10, 64)
	if !allDigits(raw) || err != nil || value < minimum || (maximum >= 0 && value > maximum) {
		bounds := fmt.Sprintf(">= %d", minimum)
		if maximum >= 0 {
			bounds = fmt.Sprintf("%d..%d", minimum, maximum)
		}
		r.fail("%s must be an integer %s, got %s", r.Name(key), bounds, pytext.Repr(raw))
		return def
	}
	return value
}

// Port is a TCP port, 0..65535 (0: any free port).
func (r *Reader) Port(key string, def int) int {
	raw := r.Raw(key)
	if raw == "" {
		return def
	}
	value, err := strconv.Atoi(raw)
	if !allDigits(raw) || err != nil || value > 65535 {
		r.fail("%s must be a TCP port (0-65535), got %s", r.Name(key), pytext.Repr(raw))
		return def
	}
	return value
}

// Flag is a boolean: 1/0, true/false, yes/no.
func (r *Reader) Flag(key string, def bool) bool {
	raw := r.Raw(key)
	if raw == "" {
		return def
	}
	switch strings.ToLower(raw) {
	case "1", "true", "yes":
		return true
	case "0", "false", "no":
		return false
	}
	r.fail("%s must be a boolean, got %s", r.Name(key), pytext.Repr(raw))
	return def
}

// Choice is one of choices, compared in lower case.
func (r *Reader) Choice(key, def string, choices ...string) string {
	value := def
	if raw := r.Raw(key); raw != "" {
		value = strings.ToLower(raw)
	}
	for _, choice := range choices {
		if value == choice {
			return value
		}
	}
	r.fail("%s must be %s, got %s", r.Name(key), oneOf(choices), pytext.Repr(value))
	return def
}

func oneOf(choices []string) string {
	if len(choices) == 1 {
		return choices[0]
	}
	return strings.Join(choices[:len(choices)-1], ", ") + " or " + choices[len(choices)-1]
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
