package runtime

import (
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/shopmesh/shopmesh/meshkit/go/domainerr"
)

// StatusOf is the google.rpc.Status of a domain error, with the details the Python
// boundary sends (meshkit/runtime/error_mapping.py): ErrorInfo always, then BadRequest,
// ResourceInfo and RetryInfo when the error has them. The servicers put it in the
// per-item oneof of the bidi streams; the boundary sends it in grpc-status-details-bin.
func StatusOf(e *domainerr.Error) *spb.Status {
	details := []proto.Message{&errdetails.ErrorInfo{Reason: e.Reason, Domain: domainerr.Domain, Metadata: e.Metadata}}
	if len(e.Violations) > 0 {
		bad := &errdetails.BadRequest{}
		for _, v := range e.Violations {
			bad.FieldViolations = append(bad.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description})
		}
		details = append(details, bad)
	}
	if e.ResourceType != "" {
		details = append(details, &errdetails.ResourceInfo{ResourceType: e.ResourceType, ResourceName: e.ResourceName})
	}
	if e.RetryAfter != nil {
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(*e.RetryAfter)})
	}
	status := &spb.Status{Code: int32(e.Kind), Message: e.Message}
	for _, detail := range details {
		packed, err := anypb.New(detail)
		if err == nil {
			status.Details = append(status.Details, packed)
		}
	}
	return status
}

// codeNames are the canonical UPPER_SNAKE names the access log writes (grpc-go's
// Code.String() is CamelCase; the Python log and every tool reading it use these).
var codeNames = map[codes.Code]string{
	codes.OK: "OK", codes.Canceled: "CANCELLED", codes.Unknown: "UNKNOWN",
	codes.InvalidArgument: "INVALID_ARGUMENT", codes.DeadlineExceeded: "DEADLINE_EXCEEDED",
	codes.NotFound: "NOT_FOUND", codes.AlreadyExists: "ALREADY_EXISTS",
	codes.PermissionDenied: "PERMISSION_DENIED", codes.ResourceExhausted: "RESOURCE_EXHAUSTED",
	codes.FailedPrecondition: "FAILED_PRECONDITION", codes.Aborted: "ABORTED",
	codes.OutOfRange: "OUT_OF_RANGE", codes.Unimplemented: "UNIMPLEMENTED",
	codes.Internal: "INTERNAL", codes.Unavailable: "UNAVAILABLE", codes.DataLoss: "DATA_LOSS",
	codes.Unauthenticated: "UNAUTHENTICATED",
}

// CodeName is the canonical name of a status code ("INVALID_ARGUMENT").
func CodeName(code codes.Code) string {
	if name, ok := codeNames[code]; ok {
		return name
	}
	return "UNKNOWN"
}
