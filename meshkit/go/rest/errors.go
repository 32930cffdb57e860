package rest

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/shopmesh/shopmesh/meshkit/go/domainerr"
)

const typePrefix = "type.googleapis.com/google.rpc."

// GRPCToHTTP is the one gRPC code → HTTP status table (meshkit/http_status.py).
var GRPCToHTTP = map[int32]int{
	0: 200, 1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429,
	9: 400, 10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401,
}

// grpcCodeNames name codes in the access log ("OK", "NOT_FOUND").
var grpcCodeNames = []string{
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
	"ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
	"UNAUTHENTICATED",
}

// StatusDocument is google.rpc.Status as protobuf's JSON mapping renders it: the error
// body of every HTTP face of the shop (meshkit/runtime/rest/errors.py status_document).
type StatusDocument struct {
	Code    int32  `json:"code"`
	Message string `json:"message"`
	Details []any  `json:"details"`
}

type errorInfo struct {
	Type     string            `json:"@type"`
	Reason   string            `json:"reason,omitempty"`
	Domain   string            `json:"domain"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

type fieldViolation struct {
	Field       string `json:"field,omitempty"`
	Description string `json:"description,omitempty"`
}

type badRequest struct {
	Type            string           `json:"@type"`
	FieldViolations []fieldViolation `json:"fieldViolations"`
}

type resourceInfo struct {
	Type         string `json:"@type"`
	ResourceType string `json:"resourceType,omitempty"`
	ResourceName string `json:"resourceName,omitempty"`
}

type retryInfo struct {
	Type       string `json:"@type"`
	RetryDelay string `json:"retryDelay"`
}

// Document is the status document of a domain error, details included.
func Document(e *domainerr.Error) StatusDocument {
	details := []any{errorInfo{typePrefix + "ErrorInfo", e.Reason, domainerr.Domain, e.Metadata}}
	if len(e.Violations) > 0 {
		violations := make([]fieldViolation, len(e.Violations))
		for i, v := range e.Violations {
			violations[i] = fieldViolation{v.Field, v.Description}
		}
		details = append(details, badRequest{typePrefix + "BadRequest", violations})
	}
	if e.ResourceType != "" {
		details = append(details, resourceInfo{typePrefix + "ResourceInfo", e.ResourceType, e.ResourceName})
	}
	if e.RetryAfter != nil {
		details = append(details, retryInfo{typePrefix + "RetryInfo", durationJSON(*e.RetryAfter)})
	}
	return StatusDocument{int32(e.Kind), e.Message, details}
}

// problem is a status the HTTP layer itself answers (no route, body too large, ...).
func problem(code int32, message, reason string) StatusDocument {
	return StatusDocument{code, message, []any{errorInfo{Type: typePrefix + "ErrorInfo", Reason: reason, Domain: domainerr.Domain}}}
}

// HTTPStatus is the HTTP status of a document (500 for a code outside the table).
func (d StatusDocument) HTTPStatus() int {
	if status, ok := GRPCToHTTP[d.Code]; ok {
		return status
	}
	return 500
}

func (d StatusDocument) codeName() string {
	if d.Code >= 0 && int(d.Code) < len(grpcCodeNames) {
		return grpcCodeNames[d.Code]
	}
	return "UNKNOWN"
}

// durationJSON is a google.protobuf.Duration in its JSON form ("1.500s").
func durationJSON(d time.Duration) string {
	whole, nanos := int64(d/time.Second), int64(d%time.Second)
	switch {
	case nanos == 0:
		return fmt.Sprintf("%ds", whole)
	case nanos%1_000_000 == 0:
		return fmt.Sprintf("%d.%03ds", whole, nanos/1_000_000)
	case nanos%1_000 == 0:
		return fmt.Sprintf("%d.%06ds", whole, nanos/1_000)
	}
	return fmt.Sprintf("%d.%09ds", whole, nanos)
}

func retryAfter(e *domainerr.Error) string {
	if e == nil || e.RetryAfter == nil {
		return ""
	}
	return fmt.Sprint(int64(math.Max(1, math.Ceil(e.RetryAfter.Seconds()))))
}

func mediaType(contentType string) string {
	media, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(media))
}
