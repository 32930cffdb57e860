package health

import (
	"bufio"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func serveHealth(t *testing.T, state *State, heartbeat time.Duration) healthpb.HealthClient {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := grpc.NewServer()
	healthpb.RegisterHealthServer(server, NewServer(state, heartbeat))
	go func() { _ = server.Serve(listener) }()
	t.Cleanup(server.Stop)
	conn, err := grpc.NewClient(listener.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return healthpb.NewHealthClient(conn)
}

// TestWatchHeartbeatsThenEndsOnDrain: a quiet Watch re-sends SERVING every heartbeat; the drain sends NOT_SERVING and ends it.
func TestWatchHeartbeatsThenEndsOnDrain(t *testing.T) {
	state := NewState([]string{"x.v1.XService"}, nil)
	client := serveHealth(t, state, 50*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	watch, err := client.Watch(ctx, &healthpb.HealthCheckRequest{Service: "x.v1.XService"})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		reply, err := watch.Recv()
		if err != nil || reply.Status != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("%v %v", reply, err)
		}
	}
	state.Drain()
	for {
		reply, err := watch.Recv()
		if err != nil {
			t.Fatalf("stream ended without NOT_SERVING: %v", err)
		}
		if reply.Status == healthpb.HealthCheckResponse_NOT_SERVING {
			break
		}
	}
	if _, err := watch.Recv(); err != io.EOF {
		t.Fatalf("stream still open after the drain: %v", err)
	}
}

// TestUnknownServiceIsNotFoundOrServiceUnknown: Check answers NOT_FOUND, Watch SERVICE_UNKNOWN.
func TestUnknownServiceIsNotFoundOrServiceUnknown(t *testing.T) {
	client := serveHealth(t, NewState(nil, nil), time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: "nope"}); err == nil || !strings.Contains(err.Error(), "unknown service 'nope'") {
		t.Fatal(err)
	}
	watch, _ := client.Watch(ctx, &healthpb.HealthCheckRequest{Service: "nope"})
	if reply, err := watch.Recv(); err != nil || reply.Status != healthpb.HealthCheckResponse_SERVICE_UNKNOWN {
		t.Fatalf("%v %v", reply, err)
	}
}

// TestDependencyDownIsNotServing: readiness follows hard dependencies (none for pricing or inventory).
func TestDependencyDownIsNotServing(t *testing.T) {
	state := NewState(nil, []string{"catalog"})
	if state.Snapshot().Serving() {
		t.Fatal("serving before the dependency was seen healthy")
	}
	state.SetDependency("catalog", true)
	if !state.Snapshot().Serving() {
		t.Fatal("not serving with every dependency healthy")
	}
}

func probe(t *testing.T, port int, request string) (string, string) {
	t.Helper()
	conn, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = conn.Write([]byte(request))
	response, _ := io.ReadAll(bufio.NewReader(conn))
	head, body, _ := strings.Cut(string(response), "\r\n\r\n")
	return head, body
}

// TestProbePortAnswersLivenessReadinessAndRefusesTheRest: probes, methods, paths and hostile heads.
func TestProbePortAnswersLivenessReadinessAndRefusesTheRest(t *testing.T) {
	state := NewState(nil, nil)
	server, err := ListenHTTP(state, "svc", func() any { return map[string]int{"calls": 1} }, "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	port := server.Port()
	cases := []struct{ request, status, body string }{
		{"GET /healthz HTTP/1.1\r\n\r\n", "200 OK", `{"service":"svc","status":"SERVING","draining":false,"unhealthy_dependencies":[]}`},
		{"GET /readyz?x=1 HTTP/1.0\r\nHost: a\r\n\r\n", "200 OK", `"status":"SERVING"`},
		{"GET /metrics HTTP/1.1\r\n\r\n", "200 OK", `{"calls":1}`},
		{"HEAD /healthz HTTP/1.1\r\n\r\n", "200 OK", ""},
		{"POST /readyz HTTP/1.1\r\n\r\n", "405 Method Not Allowed", "method POST not allowed"},
		{"GET /admin HTTP/1.1\r\n\r\n", "404 Not Found", "no route /admin"},
		{"GET /healthz\r\n\r\n", "400 Bad Request", "malformed request line"},
		{"GET  /healthz HTTP/1.1\r\n\r\n", "400 Bad Request", "malformed request line"},
		{"GET /healthz SPDY/3\r\n\r\n", "400 Bad Request", "malformed request line"},
		{"GET /healthz HTTP/1.1\r\nX: " + strings.Repeat("a", MaxRequestBytes) + "\r\n\r\n", "400 Bad Request", "malformed or slow request"},
		{"GET /healthz HTTP/1.1\r\n", "400 Bad Request", "malformed or slow request"}, // closed early
	}
	for _, c := range cases {
		request := c.request
		head, body := probeClosing(t, port, request)
		if !strings.HasPrefix(head, "HTTP/1.1 "+c.status) || !strings.Contains(body, c.body) || (c.body == "" && body != "") {
			t.Errorf("%q: %q %q", request, head, body)
		}
	}
	state.Drain()
	if head, body := probe(t, port, "GET /readyz HTTP/1.1\r\n\r\n"); !strings.HasPrefix(head, "HTTP/1.1 503") || !strings.Contains(body, `"draining":true`) {
		t.Errorf("readiness while draining: %q %q", head, body)
	}
	if head, _ := probe(t, port, "GET /healthz HTTP/1.1\r\n\r\n"); !strings.HasPrefix(head, "HTTP/1.1 200") {
		t.Errorf("liveness while draining: %q", head)
	}
}

// probeClosing sends request, then half-closes, so a head without its blank line ends.
func probeClosing(t *testing.T, port int, request string) (string, string) {
	t.Helper()
	conn, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = conn.Write([]byte(request))
	_ = conn.(*net.TCPConn).CloseWrite()
	response, _ := io.ReadAll(conn)
	head, body, _ := strings.Cut(string(response), "\r\n\r\n")
	return head, body
}
