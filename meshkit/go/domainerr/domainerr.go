// Package domainerr is the Go twin of meshkit/errors.py: the transport-free errors a
// domain returns on purpose. Exactly one boundary per transport turns them into a wire
// status (gRPC: meshkit/go/runtime; REST: meshkit/go/rest), so nothing here imports grpc.
package domainerr

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Domain is google.rpc.ErrorInfo.domain of every error the shop reports.
const Domain = "shopmesh.dev"

// Kind is the status category of an error; its value is the google.rpc.Code number, so
// both transports map it without a table of their own.
type Kind int32

// The kinds a domain may raise (meshkit/http_status.py CODE_OF_KIND).
const (
	Cancelled          Kind = 1
	InvalidArgument    Kind = 3
	DeadlineExceeded   Kind = 4
	NotFound           Kind = 5
	AlreadyExists      Kind = 6
	ResourceExhausted  Kind = 8
	FailedPrecondition Kind = 9
	Aborted            Kind = 10
	Internal           Kind = 13
	Unavailable        Kind = 14
)

// FieldViolation is one bad field of a request, named by its path ("items[2].quantity").
type FieldViolation struct {
	Field       string
	Description string
}

// Error is a domain error: a kind, a stable UPPER_SNAKE reason, a message for people
// and the details a client can act on.
type Error struct {
	Kind         Kind
	Message      string
	Reason       string
	Metadata     map[string]string
	Violations   []FieldViolation
	ResourceType string
	ResourceName string
	// RetryAfter is sent as google.rpc.RetryInfo when set.
	RetryAfter *time.Duration
}

func (e *Error) Error() string { return e.Message }

// Invalid is an InvalidArgument listing every violation, its message naming every field
// ("a: ...; b: ..."), as InvalidArgument.of does.
func Invalid(reason string, violations ...FieldViolation) *Error {
	parts := make([]string, len(violations))
	for i, v := range violations {
		parts[i] = v.Field + ": " + v.Description
	}
	return &Error{
		Kind:       InvalidArgument,
		Message:    strings.Join(parts, "; "),
		Reason:     reason,
		Violations: violations,
	}
}

// Missing is a NotFound naming the resource that does not exist.
func Missing(message, reason, resourceType, resourceName string) *Error {
	return &Error{
		Kind: NotFound, Message: message, Reason: reason,
		ResourceType: resourceType, ResourceName: resourceName,
	}
}

// Unexpected is what an unexpected failure becomes at a boundary: INTERNAL with an
// opaque id. The caller logs the cause (with its stack) under the same id; the cause
// never goes on the wire.
func Unexpected() (*Error, string) {
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	id := hex.EncodeToString(raw[:])
	return &Error{
		Kind:     Internal,
		Message:  fmt.Sprintf("internal error (error id %s)", id),
		Reason:   "INTERNAL",
		Metadata: map[string]string{"error_id": id},
	}, id
}
