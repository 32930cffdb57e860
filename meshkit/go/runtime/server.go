package runtime

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"

	"github.com/shopmesh/shopmesh/meshkit/go/counters"
	"github.com/shopmesh/shopmesh/meshkit/go/health"
	"github.com/shopmesh/shopmesh/meshkit/go/listen"
	"github.com/shopmesh/shopmesh/meshkit/go/logs"
	"github.com/shopmesh/shopmesh/meshkit/go/tracing"
)

// Keepalive, as meshkit/runtime/server.py sets it: ping idle clients every 2 minutes to
// find dead peers (well inside the proxies' 5-minute idle timeout); accept client pings
// down to every 30 s, with or without calls (ours ping every 60 s). A client pinging
// faster gets GOAWAY after two strikes (grpc-go's fixed limit, grpcio's setting).
var (
	serverKeepalive = keepalive.ServerParameters{Time: 120 * time.Second, Timeout: 20 * time.Second}
	keepalivePolicy = keepalive.EnforcementPolicy{MinTime: 30 * time.Second, PermitWithoutStream: true}
)

// Registration is a service implementation and its generated descriptor.
type Registration struct {
	Desc *grpc.ServiceDesc
	Impl any
}

// Parts is what a service contributes to its gRPC host.
type Parts struct {
	Registrations []Registration
	// OnStop runs after the server stopped (closing stores, say).
	OnStop []func()
}

// StartupError is a host that cannot start (a taken port): one line, exit status 2.
type StartupError struct{ Message string }

func (e *StartupError) Error() string { return e.Message }

// GRPCHost is a running service: gRPC server, health (gRPC and HTTP), reflection, the
// boundary, tracing and the drain sequence.
type GRPCHost struct {
	config     Config
	log        *logs.Logger
	tracing    *tracing.Tracing
	parts      Parts
	server     *grpc.Server
	state      *health.State
	http       *health.HTTPServer
	Counters   *counters.Counters
	GRPCPort   int
	HealthPort int
}

// StartGRPC listens on the gRPC and health ports and serves parts; a taken port is a
// *StartupError and nothing is left listening.
func StartGRPC(config Config, log *logs.Logger, traced *tracing.Tracing, parts Parts) (*GRPCHost, error) {
	h := &GRPCHost{config: config, log: log, tracing: traced, parts: parts, Counters: counters.New(counters.DefaultMaxOperations)}
	boundary := &Boundary{DefaultDeadline: config.DefaultDeadline, Log: log, AccessLog: config.AccessLog, Counters: h.Counters}
	options := append(traced.ServerOptions(),
		grpc.ChainUnaryInterceptor(boundary.Unary),
		grpc.ChainStreamInterceptor(boundary.Stream),
		grpc.KeepaliveParams(serverKeepalive),
		grpc.KeepaliveEnforcementPolicy(keepalivePolicy),
		grpc.MaxRecvMsgSize(config.MaxMessageBytes),
		grpc.MaxSendMsgSize(config.MaxMessageBytes),
	)
	h.server = grpc.NewServer(options...)
	names := make([]string, 0, len(parts.Registrations))
	for _, registration := range parts.Registrations {
		h.server.RegisterService(registration.Desc, registration.Impl)
		names = append(names, registration.Desc.ServiceName)
	}
	h.state = health.NewState(names, nil)
	healthpb.RegisterHealthServer(h.server, health.NewServer(h.state, config.StreamHeartbeat))
	// v1alpha only, as grpcio's reflection serves: `grpcurl list` shows the same services.
	reflectionpb.RegisterServerReflectionServer(h.server, reflection.NewServer(reflection.ServerOptions{Services: h.server}))

	listener, err := listen.TCP(config.Host, config.GRPCPort)
	if err != nil {
		return nil, &StartupError{fmt.Sprintf("cannot listen for gRPC on %s:%d: port in use?", config.Host, config.GRPCPort)}
	}
	h.GRPCPort = listen.Port(listener)
	metrics := func() any { return h.Counters.Document(config.ServiceName) }
	h.http, err = health.ListenHTTP(h.state, config.ServiceName, metrics, config.Host, config.HealthPort)
	if err != nil {
		_ = listener.Close()
		return nil, &StartupError{fmt.Sprintf("cannot listen for /healthz on %s:%d: %s", config.Host, config.HealthPort, listen.Strerror(err))}
	}
	h.HealthPort = h.http.Port()
	go func() { _ = h.server.Serve(listener) }() // returns once stopped
	log.Info("shopmesh.server", "serving", logs.F("grpc_port", h.GRPCPort), logs.F("health_port", h.HealthPort), logs.F("health", h.state.Snapshot().Status.String()))
	return h, nil
}

// Health is the host's readiness state.
func (h *GRPCHost) Health() *health.State { return h.state }

// Stop drains (meshkit/runtime/drain.py): health NOT_SERVING at once (Watch streams see it
// and end), the drain delay while proxies stop routing here, a graceful stop that refuses
// new calls and gives those in flight the grace, then a forced stop; then the health port,
// the service's own hooks and the tracer are closed.
func (h *GRPCHost) Stop(drainDelay, grace time.Duration) {
	h.log.Info("shopmesh.server", "draining", logs.F("drain_delay_s", drainDelay.Seconds()), logs.F("grace_s", grace.Seconds()))
	h.state.Drain()
	time.Sleep(drainDelay)
	stopped := make(chan struct{})
	go func() {
		h.server.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(grace):
		h.server.Stop() // cancels what is still running
		<-stopped
	}
	h.http.Close()
	for _, hook := range h.parts.OnStop {
		hook()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h.tracing.Shutdown(ctx)
	h.log.Info("shopmesh.server", "stopped")
}
