package runtime

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	pricingv1 "github.com/shopmesh/shopmesh/gen/go/shopmesh/pricing/v1"
	"github.com/shopmesh/shopmesh/meshkit/go/domainerr"
	"github.com/shopmesh/shopmesh/meshkit/go/logs"
	"github.com/shopmesh/shopmesh/meshkit/go/tracing"
)

// syncBuffer collects log lines written from the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fake is a pricing service whose behaviour each test picks.
type fake struct {
	pricingv1.UnimplementedPricingServiceServer
	quote  func(context.Context) error
	stream func(pricingv1.PricingService_QuoteStreamServer) error
}

func (f *fake) Quote(ctx context.Context, _ *pricingv1.QuoteRequest) (*pricingv1.QuoteResponse, error) {
	if err := f.quote(ctx); err != nil {
		return nil, err
	}
	return &pricingv1.QuoteResponse{}, nil
}

func (f *fake) QuoteStream(stream pricingv1.PricingService_QuoteStreamServer) error {
	return f.stream(stream)
}

func start(t *testing.T, f *fake, log *syncBuffer) (*GRPCHost, pricingv1.PricingServiceClient) {
	t.Helper()
	config := Config{
		ServiceName: "test", Host: "127.0.0.1", DefaultDeadline: time.Second,
		MaxMessageBytes: DefaultMaxMessageBytes, StreamHeartbeat: time.Minute, AccessLog: true,
	}
	host, err := StartGRPC(config, logs.New("test", "INFO", log), &tracing.Tracing{}, Parts{
		Registrations: []Registration{{Desc: &pricingv1.PricingService_ServiceDesc, Impl: f}},
	})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient("127.0.0.1:"+strconv.Itoa(host.GRPCPort), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return host, pricingv1.NewPricingServiceClient(conn)
}

func bounded(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestPanicBecomesInternalWithAnOpaqueID: a panicking handler answers INTERNAL with an error id; the stack is logged under it, never sent.
func TestPanicBecomesInternalWithAnOpaqueID(t *testing.T) {
	var log syncBuffer
	host, client := start(t, &fake{quote: func(context.Context) error { panic("secret detail") }}, &log)
	defer host.Stop(0, time.Second)
	_, err := client.Quote(bounded(t), &pricingv1.QuoteRequest{})
	st := status.Convert(err)
	if st.Code() != codes.Internal || !strings.HasPrefix(st.Message(), "internal error (error id ") || strings.Contains(st.Message(), "secret") {
		t.Fatalf("%v", st)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(st.Message(), "internal error (error id "), ")")
	info := st.Details()[0].(*errdetails.ErrorInfo)
	if info.Reason != "INTERNAL" || info.Metadata["error_id"] != id || info.Domain != "shopmesh.dev" {
		t.Fatalf("%+v", info)
	}
	if text := log.String(); !strings.Contains(text, id) || !strings.Contains(text, "secret detail") || !strings.Contains(text, "runtime_test.go") {
		t.Fatalf("the log lacks the id or the stack: %s", text)
	}
}

// TestPanicMidStreamIsInternalAfterTheMessagesSent: replies already sent arrive, then the stream ends INTERNAL, never UNKNOWN.
func TestPanicMidStreamIsInternalAfterTheMessagesSent(t *testing.T) {
	var log syncBuffer
	host, client := start(t, &fake{stream: func(s pricingv1.PricingService_QuoteStreamServer) error {
		if err := s.Send(&pricingv1.QuoteStreamResponse{LineId: "1"}); err != nil {
			return err
		}
		panic("mid-stream")
	}}, &log)
	defer host.Stop(0, time.Second)
	stream, err := client.QuoteStream(bounded(t))
	if err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil || first.LineId != "1" {
		t.Fatalf("%v %v", first, err)
	}
	if _, err := stream.Recv(); status.Code(err) != codes.Internal {
		t.Fatalf("%v", err)
	}
}

// TestDomainErrorsCarryTheirDetails: a domain error becomes its code with ErrorInfo, BadRequest, ResourceInfo and RetryInfo.
func TestDomainErrorsCarryTheirDetails(t *testing.T) {
	retry := 1500 * time.Millisecond
	var log syncBuffer
	host, client := start(t, &fake{quote: func(context.Context) error {
		return &domainerr.Error{Kind: domainerr.Unavailable, Message: "m", Reason: "R", Metadata: map[string]string{"k": "v"},
			Violations: []domainerr.FieldViolation{{Field: "f", Description: "d"}}, ResourceType: "t", ResourceName: "n", RetryAfter: &retry}
	}}, &log)
	defer host.Stop(0, time.Second)
	_, err := client.Quote(bounded(t), &pricingv1.QuoteRequest{})
	st := status.Convert(err)
	details := st.Details()
	if st.Code() != codes.Unavailable || len(details) != 4 {
		t.Fatalf("%v %v", st, details)
	}
	if details[3].(*errdetails.RetryInfo).RetryDelay.AsDuration() != retry || details[2].(*errdetails.ResourceInfo).ResourceName != "n" {
		t.Fatalf("%v", details)
	}
}

// TestExpiredCallDoesNoWork: a call whose deadline has passed fails DEADLINE_EXCEEDED before the handler runs.
func TestExpiredCallDoesNoWork(t *testing.T) {
	b := &Boundary{DefaultDeadline: time.Second, Log: logs.New("t", "INFO", io.Discard)}
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Millisecond))
	defer cancel()
	called := false
	_, err := b.Unary(ctx, nil, &grpc.UnaryServerInfo{FullMethod: "/x.v1.X/Y"}, func(context.Context, any) (any, error) {
		called = true
		return nil, nil
	})
	if called || status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("called=%v err=%v", called, err)
	}
}

// TestUnaryCallsWithoutDeadlineGetTheDefault: the handler sees the default deadline; a server stream gets none.
func TestUnaryCallsWithoutDeadlineGetTheDefault(t *testing.T) {
	b := &Boundary{DefaultDeadline: 3 * time.Second, Log: logs.New("t", "INFO", io.Discard)}
	var remaining time.Duration
	_, _ = b.Unary(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/x"}, func(ctx context.Context, _ any) (any, error) {
		deadline, _ := ctx.Deadline()
		remaining = time.Until(deadline)
		return nil, nil
	})
	if remaining <= 2*time.Second || remaining > 3*time.Second {
		t.Fatalf("remaining %v", remaining)
	}
	ctx, _, expired := b.bind(context.Background(), false)
	if _, has := ctx.Deadline(); has || expired {
		t.Fatal("a long-lived stream got a deadline")
	}
}

// TestStopDrainsInOrder: readiness drops at once, an in-flight call finishes within the grace, and new calls are refused afterwards.
func TestStopDrainsInOrder(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	var log syncBuffer
	host, client := start(t, &fake{quote: func(context.Context) error {
		entered <- struct{}{}
		<-release
		return nil
	}}, &log)
	result := make(chan error, 1)
	go func() {
		_, err := client.Quote(bounded(t), &pricingv1.QuoteRequest{})
		result <- err
	}()
	<-entered
	stopped := make(chan struct{})
	go func() {
		host.Stop(200*time.Millisecond, 5*time.Second)
		close(stopped)
	}()
	waitFor(t, func() bool { return !host.Health().Snapshot().Serving() })
	if code := get(t, host.HealthPort, "/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("readiness %d while draining", code)
	}
	if code := get(t, host.HealthPort, "/healthz"); code != http.StatusOK {
		t.Fatalf("liveness %d while draining", code)
	}
	close(release)
	if err := <-result; err != nil {
		t.Fatalf("in-flight call failed: %v", err)
	}
	<-stopped
	if _, err := client.Quote(bounded(t), &pricingv1.QuoteRequest{}); status.Code(err) != codes.Unavailable {
		t.Fatalf("a call after the stop: %v", err)
	}
	if !strings.Contains(log.String(), `"msg": "stopped"`) {
		t.Fatal("no stop line")
	}
}

// TestStopCutsCallsThatOutliveTheGrace: a call still running at the end of the grace is cancelled and Stop returns.
func TestStopCutsCallsThatOutliveTheGrace(t *testing.T) {
	entered := make(chan struct{}, 1)
	var log syncBuffer
	host, client := start(t, &fake{quote: func(ctx context.Context) error {
		entered <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}}, &log)
	result := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := client.Quote(ctx, &pricingv1.QuoteRequest{})
		result <- err
	}()
	<-entered
	began := time.Now()
	host.Stop(0, 300*time.Millisecond)
	if elapsed := time.Since(began); elapsed > 3*time.Second {
		t.Fatalf("stop took %v", elapsed)
	}
	if err := <-result; err == nil {
		t.Fatal("the call outlived the grace and succeeded")
	}
}

func waitFor(t *testing.T, condition func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !condition() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func get(t *testing.T, port int, path string) int {
	t.Helper()
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = conn.Write([]byte("GET " + path + " HTTP/1.1\r\n\r\n"))
	response, _ := io.ReadAll(conn)
	fields := strings.Fields(string(response))
	if len(fields) < 2 {
		t.Fatalf("no response: %q", response)
	}
	code, _ := strconv.Atoi(fields[1])
	return code
}

// TestConfigReadsSettingsLikePython: defaults from the manifest, overrides, and errors that name the variable.
func TestConfigReadsSettingsLikePython(t *testing.T) {
	spec := manifestSpec()
	config, err := ConfigFromEnv(spec, map[string]string{"SHOPMESH_GRPC_PORT": " 7000 ", "SHOPMESH_GRACE_S": "", "SHOPMESH_LOG_LEVEL": "debug"})
	if err != nil || config.GRPCPort != 7000 || config.HealthPort != 8052 || config.Grace != DefaultGrace || config.LogLevel != "DEBUG" {
		t.Fatalf("%+v %v", config, err)
	}
	for variable, message := range map[string]string{
		"SHOPMESH_DEFAULT_DEADLINE_S": "SHOPMESH_DEFAULT_DEADLINE_S must be a finite number >= 0.001, got '0'",
		"SHOPMESH_MAX_MESSAGE_BYTES":  "SHOPMESH_MAX_MESSAGE_BYTES must be an integer >= 1024, got '0'",
		"SHOPMESH_ACCESS_LOG":         "SHOPMESH_ACCESS_LOG must be a boolean, got '0'",
	} {
		value := "0"
		if variable == "SHOPMESH_ACCESS_LOG" {
			value = "maybe"
			message = strings.Replace(message, "'0'", "'maybe'", 1)
		}
		_, err := ConfigFromEnv(spec, map[string]string{variable: value})
		if err == nil || err.Error() != message {
			t.Errorf("%s: %v", variable, err)
		}
	}
	if _, err := ConfigFromEnv(spec, map[string]string{"SHOPMESH_STREAM_HEARTBEAT_S": "0.001"}); err == nil {
		t.Error("a heartbeat under 0.01 s was accepted")
	}
	var configErr interface{ Error() string }
	if _, err := ConfigFromEnv(spec, map[string]string{"SHOPMESH_TRANSPORT": "rest", "SHOPMESH_REST_PORT": "x"}); !errors.As(err, &configErr) {
		t.Error(err)
	}
}

// The --healthcheck probe exits 0 only when the probe port's /healthz answers 200, on the
// REST port over REST, and 1 (one line) when the instance answers otherwise or not at all.
func TestHealthcheckProbesLivenessOnTheRightPort(t *testing.T) {
	status := http.StatusOK
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			t.Errorf("probed %s", r.URL.Path)
		}
		w.WriteHeader(status)
	}))
	defer server.Close()
	port := server.Listener.Addr().(*net.TCPAddr).Port
	var out strings.Builder
	if code := healthcheck("pricing", Config{HealthPort: port}, &out); code != 0 {
		t.Fatalf("healthy instance: exit %d (%s)", code, out.String())
	}
	if code := healthcheck("pricing", Config{Transport: "rest", RESTPort: port}, &out); code != 0 {
		t.Fatalf("healthy REST instance: exit %d (%s)", code, out.String())
	}
	status = http.StatusServiceUnavailable
	if code := healthcheck("pricing", Config{HealthPort: port}, &out); code != 1 || !strings.Contains(out.String(), "answered 503") {
		t.Fatalf("unhealthy instance: exit %d (%q)", code, out.String())
	}
	out.Reset()
	server.Close()
	if code := healthcheck("pricing", Config{HealthPort: port}, &out); code != 1 || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("no instance: exit %d (%q)", code, out.String())
	}
}
