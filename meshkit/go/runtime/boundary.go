package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/shopmesh/shopmesh/meshkit/go/counters"
	"github.com/shopmesh/shopmesh/meshkit/go/domainerr"
	"github.com/shopmesh/shopmesh/meshkit/go/logs"
	"github.com/shopmesh/shopmesh/meshkit/go/tracing"
)

// Metadata keys of the call scope (meshkit/runtime/interceptors.py).
const (
	RequestIDKey   = "x-request-id"
	OperationIDKey = "x-operation-id"
	maxIDLength    = 128
)

// Scope is what an inbound call hands down: its ids (and, through its context, its
// deadline).
type Scope struct {
	RequestID   string
	OperationID string
}

type scopeKey struct{}

// ScopeOf is the call scope bound by the boundary ("" ids outside a call).
func ScopeOf(ctx context.Context) Scope {
	scope, _ := ctx.Value(scopeKey{}).(Scope)
	return scope
}

// Boundary is the server side every RPC passes through (ServerBoundary): it binds the
// call scope, refuses work whose deadline has passed, gives a call with a bounded
// response (unary or client-streaming) and no caller deadline the default one, maps
// errors to statuses (domain errors with their details; anything unexpected, a panic
// included, to INTERNAL with an opaque id whose stack goes to the log only), counts
// messages and writes one access-log line.
type Boundary struct {
	DefaultDeadline time.Duration
	Log             *logs.Logger
	AccessLog       bool
	Counters        *counters.Counters
}

// Unary is the unary interceptor.
func (b *Boundary) Unary(ctx context.Context, request any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	started := time.Now()
	ctx, cancel, expired := b.bind(ctx, true)
	defer cancel()
	var response any
	var err error
	if expired {
		err = deadlineExceeded()
	} else {
		err = b.guard(info.FullMethod, func() error {
			response, err = handler(ctx, request)
			return err
		})
	}
	err = b.settle(err, info.FullMethod)
	code := status.Code(err)
	b.finish(ctx, info.FullMethod, code, started, 1, boolCount(code == codes.OK))
	return response, err
}

// Stream is the stream interceptor.
func (b *Boundary) Stream(server any, stream grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	started := time.Now()
	bounded := !info.IsServerStream // client streaming: one response, so a default deadline
	ctx, cancel, expired := b.bind(stream.Context(), bounded)
	defer cancel()
	counted := &countingStream{ServerStream: stream, ctx: ctx}
	var err error
	if expired {
		err = deadlineExceeded()
	} else {
		err = b.guard(info.FullMethod, func() error { return handler(server, counted) })
	}
	err = b.settle(err, info.FullMethod)
	code := status.Code(err)
	received, sent := counted.received, counted.sent
	if !info.IsClientStream {
		received = 1
	}
	if !info.IsServerStream {
		sent = boolCount(code == codes.OK)
	}
	b.finish(ctx, info.FullMethod, code, started, received, sent)
	return err
}

// bind puts the call scope in ctx and, for a bounded call without a caller deadline, the
// default deadline; expired says the caller's deadline has already passed.
func (b *Boundary) bind(ctx context.Context, bounded bool) (context.Context, context.CancelFunc, bool) {
	scope := Scope{}
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		scope.RequestID = firstValue(md, RequestIDKey)
		scope.OperationID = firstValue(md, OperationIDKey)
	}
	if scope.RequestID == "" {
		scope.RequestID = randomID()
	}
	ctx = context.WithValue(ctx, scopeKey{}, scope)
	deadline, ok := ctx.Deadline()
	if !ok {
		if bounded {
			ctx, cancel := context.WithTimeout(ctx, b.DefaultDeadline)
			return ctx, cancel, false
		}
		return ctx, func() {}, false
	}
	return ctx, func() {}, !time.Now().Before(deadline)
}

func firstValue(md metadata.MD, key string) string {
	values := md.Get(key)
	if len(values) == 0 {
		return ""
	}
	value := values[0]
	if len(value) > maxIDLength {
		value = value[:maxIDLength]
	}
	return value
}

func randomID() string {
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	return hex.EncodeToString(raw[:])
}

// guard runs the handler, turning a panic into an error the boundary reports as INTERNAL.
func (b *Boundary) guard(method string, call func() error) (err error) {
	defer func() {
		if recovered := recover(); recovered != nil {
			err = &panicked{value: recovered, stack: debug.Stack()}
		}
	}()
	return call()
}

type panicked struct {
	value any
	stack []byte
}

func (p *panicked) Error() string { return fmt.Sprintf("panic: %v", p.value) }

// settle is the status err becomes: domain errors their status with details; a status a
// handler chose, or a cancellation, as it is; a deadline DEADLINE_EXCEEDED; anything else
// INTERNAL with an opaque id (never UNKNOWN, never a stack on the wire).
func (b *Boundary) settle(err error, method string) error {
	if err == nil {
		return nil
	}
	var domain *domainerr.Error
	if errors.As(err, &domain) {
		return status.FromProto(StatusOf(domain)).Err()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return deadlineExceeded()
	}
	if errors.Is(err, context.Canceled) {
		return status.Error(codes.Canceled, "the caller went away")
	}
	if _, ok := status.FromError(err); ok && !isPanic(err) {
		return err
	}
	return status.FromProto(StatusOf(Unexpected(b.Log, err, method))).Err()
}

func isPanic(err error) bool {
	var p *panicked
	return errors.As(err, &p)
}

// Unexpected logs err with its stack under a fresh error id and returns the INTERNAL
// error the caller sees (Internal.unexpected), for both transports.
func Unexpected(log *logs.Logger, err error, where string) *domainerr.Error {
	internal, id := domainerr.Unexpected()
	trace := err.Error()
	var p *panicked
	if errors.As(err, &p) {
		trace += "\n" + string(p.stack)
	}
	log.Error("shopmesh.errors", "unhandled exception", logs.F("error_id", id), logs.F("method", where), logs.F("exception", trace))
	return internal
}

func deadlineExceeded() error {
	return status.FromProto(StatusOf(&domainerr.Error{
		Kind: domainerr.DeadlineExceeded, Message: "deadline exceeded", Reason: "DEADLINE_EXCEEDED",
	})).Err()
}

func (b *Boundary) finish(ctx context.Context, method string, code codes.Code, started time.Time, received, sent int64) {
	scope := ScopeOf(ctx)
	if b.AccessLog {
		b.Log.Access(method, CodeName(code), time.Since(started), peerOf(ctx), scope.RequestID, scope.OperationID, tracing.TraceID(ctx))
	}
	if b.Counters != nil {
		b.Counters.Record(method, scope.OperationID, received, sent)
	}
}

// peerOf names the caller as grpcio does ("ipv4:127.0.0.1:5000", "ipv6:[::1]:5000").
func peerOf(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return ""
	}
	if tcp, ok := p.Addr.(*net.TCPAddr); ok {
		if tcp.IP.To4() != nil {
			return "ipv4:" + tcp.String()
		}
		return "ipv6:" + tcp.String()
	}
	return p.Addr.String()
}

func boolCount(ok bool) int64 {
	if ok {
		return 1
	}
	return 0
}

type countingStream struct {
	grpc.ServerStream
	ctx      context.Context
	received int64
	sent     int64
}

func (s *countingStream) Context() context.Context { return s.ctx }

func (s *countingStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if err == nil {
		s.received++
	}
	return err
}

func (s *countingStream) SendMsg(m any) error {
	err := s.ServerStream.SendMsg(m)
	if err == nil {
		s.sent++
	}
	return err
}
