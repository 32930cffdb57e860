package health

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/shopmesh/shopmesh/meshkit/go/pytext"
)

// Server is grpc.health.v1 over a State. Watch sends the status at once, on every change,
// and again every heartbeat while it does not change (proxies cut a stream that carries
// no message for their idle timeout); when the process drains, Watch sends NOT_SERVING
// and ends, so no watcher holds the graceful stop.
type Server struct {
	healthpb.UnimplementedHealthServer
	state     *State
	heartbeat time.Duration
}

// NewServer answers from state, re-sending Watch status every heartbeat.
func NewServer(state *State, heartbeat time.Duration) *Server {
	return &Server{state: state, heartbeat: heartbeat}
}

// Check answers the status of "" or a served service; NOT_FOUND for any other.
func (h *Server) Check(_ context.Context, request *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	if !h.state.Knows(request.GetService()) {
		// pytext.Repr: the message reads as the Python server's ("unknown service 'x'").
		return nil, status.Errorf(codes.NotFound, "unknown service %s", pytext.Repr(request.GetService()))
	}
	return &healthpb.HealthCheckResponse{Status: h.state.Snapshot().Status}, nil
}

// Watch streams the status (SERVICE_UNKNOWN for a service this process does not serve:
// per the protocol the stream stays open, since it might be registered later; ours never
// is, so that answer stands until the drain).
func (h *Server) Watch(request *healthpb.HealthCheckRequest, stream healthpb.Health_WatchServer) error {
	known := h.state.Knows(request.GetService())
	const none = healthpb.HealthCheckResponse_ServingStatus(-1)
	last := none
	for {
		h.state.mu.Lock()
		snapshot, changed := h.state.current()
		h.state.mu.Unlock()
		if snapshot.Status != last {
			last = snapshot.Status
			reply := snapshot.Status
			if !known {
				reply = healthpb.HealthCheckResponse_SERVICE_UNKNOWN
			}
			if err := stream.Send(&healthpb.HealthCheckResponse{Status: reply}); err != nil {
				return err
			}
		}
		if snapshot.Draining {
			return nil
		}
		timer := time.NewTimer(h.heartbeat)
		select {
		case <-changed:
		case <-timer.C:
			last = none // nothing changed for a heartbeat: say it again
		case <-stream.Context().Done():
			timer.Stop()
			return status.FromContextError(stream.Context().Err()).Err()
		}
		timer.Stop()
	}
}
