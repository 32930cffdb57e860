package health

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/shopmesh/shopmesh/meshkit/go/listen"
)

// The probe paths (meshkit/probes.py) and the HTTP server's bounds.
const (
	LivenessPath    = "/healthz"
	ReadinessPath   = "/readyz"
	MetricsPath     = "/metrics"
	MaxRequestBytes = 8 * 1024
	ReadTimeout     = 5 * time.Second
)

// Document is the JSON body of /healthz and /readyz.
type Document struct {
	Service               string   `json:"service"`
	Status                string   `json:"status"`
	Draining              bool     `json:"draining"`
	UnhealthyDependencies []string `json:"unhealthy_dependencies"`
}

// HTTPServer answers GET/HEAD /healthz (liveness: 200 while this process answers),
// /readyz (readiness: 200 only while SERVING, else 503) and /metrics (the counters), on
// its own port: VPC Lattice and container health checks cannot speak gRPC. Deliberately
// tiny, as the Python one: a bounded request head read within a time limit, one response
// per connection.
type HTTPServer struct {
	state    *State
	service  string
	metrics  func() any
	listener net.Listener
	wg       sync.WaitGroup
}

// ListenHTTP binds host:port (0: any free port) and serves until Close.
func ListenHTTP(state *State, service string, metrics func() any, host string, port int) (*HTTPServer, error) {
	listener, err := listen.TCP(host, port)
	if err != nil {
		return nil, err
	}
	s := &HTTPServer{state: state, service: service, metrics: metrics, listener: listener}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Port is the bound port.
func (s *HTTPServer) Port() int { return listen.Port(s.listener) }

// Close stops listening and waits for the connections in progress (each is bounded by
// ReadTimeout).
func (s *HTTPServer) Close() {
	_ = s.listener.Close()
	s.wg.Wait()
}

func (s *HTTPServer) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.listener.Accept()
		if err != nil {
			return // closed
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handle(conn)
		}()
	}
}

func (s *HTTPServer) handle(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(ReadTimeout))
	head, ok := readHead(conn)
	status, headers, body := "400 Bad Request", "", any(map[string]string{"error": "malformed or slow request"})
	if ok {
		status, headers, body = s.respond(head)
	}
	payload, _ := json.Marshal(body)
	var out bytes.Buffer
	fmt.Fprintf(&out, "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%sConnection: close\r\n\r\n", status, len(payload), headers)
	if !bytes.HasPrefix(head, []byte("HEAD ")) {
		out.Write(payload)
	}
	_, _ = conn.Write(out.Bytes())
}

// readHead reads up to the blank line ending the request head, at most MaxRequestBytes.
func readHead(conn net.Conn) ([]byte, bool) {
	buffer := make([]byte, 0, 1024)
	chunk := make([]byte, 1024)
	for len(buffer) <= MaxRequestBytes {
		if end := bytes.Index(buffer, []byte("\r\n\r\n")); end >= 0 {
			return buffer[:end+4], true
		}
		n, err := conn.Read(chunk)
		buffer = append(buffer, chunk[:n]...)
		if err != nil && n == 0 {
			return buffer, false
		}
	}
	return buffer, false
}

func (s *HTTPServer) respond(head []byte) (string, string, any) {
	requestLine, _, _ := strings.Cut(string(head), "\r\n")
	parts := strings.Split(requestLine, " ")
	if len(parts) != 3 || !strings.HasPrefix(parts[2], "HTTP/1.") {
		return "400 Bad Request", "", map[string]string{"error": "malformed request line"}
	}
	method := parts[0]
	target, _, _ := strings.Cut(parts[1], "?")
	switch target {
	case LivenessPath, ReadinessPath, MetricsPath:
	default:
		return "404 Not Found", "", map[string]string{"error": "no route " + target}
	}
	if method != "GET" && method != "HEAD" {
		return "405 Method Not Allowed", "Allow: GET, HEAD\r\n", map[string]string{"error": fmt.Sprintf("method %s not allowed", method)}
	}
	if target == MetricsPath {
		return "200 OK", "", s.metrics()
	}
	snapshot := s.state.Snapshot()
	document := Document{
		Service:               s.service,
		Status:                snapshot.Status.String(),
		Draining:              snapshot.Draining,
		UnhealthyDependencies: snapshot.UnhealthyDependency,
	}
	if snapshot.Serving() || target == LivenessPath {
		return "200 OK", "", document
	}
	return "503 Service Unavailable", "", document
}
