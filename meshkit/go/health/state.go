// Package health is the Go twin of meshkit/runtime/health.py and http_health.py:
// readiness (grpc.health.v1 and GET /readyz) is SERVING only while the process is not
// draining and every hard dependency is healthy; liveness (GET /healthz) is 200 while
// the process answers at all.
package health

import (
	"sort"
	"sync"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// State is the serving status of this process; safe for concurrent use.
type State struct {
	mu       sync.Mutex
	services map[string]bool
	down     map[string]bool
	draining bool
	changed  chan struct{} // closed (and replaced) on every change
}

// NewState knows "" and services; hard dependencies count as down until seen healthy.
func NewState(services []string, hardDependencies []string) *State {
	s := &State{services: map[string]bool{"": true}, down: map[string]bool{}, changed: make(chan struct{})}
	for _, name := range services {
		s.services[name] = true
	}
	for _, name := range hardDependencies {
		s.down[name] = true
	}
	return s
}

// Snapshot is what the probes report.
type Snapshot struct {
	Status              healthpb.HealthCheckResponse_ServingStatus
	Draining            bool
	UnhealthyDependency []string
}

// Serving says whether the process should get calls.
func (s Snapshot) Serving() bool { return s.Status == healthpb.HealthCheckResponse_SERVING }

// Snapshot is the current status.
func (s *State) Snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	snapshot, _ := s.current()
	return snapshot
}

func (s *State) current() (Snapshot, <-chan struct{}) {
	status := healthpb.HealthCheckResponse_SERVING
	if s.draining || len(s.down) > 0 {
		status = healthpb.HealthCheckResponse_NOT_SERVING
	}
	down := make([]string, 0, len(s.down))
	for name := range s.down {
		down = append(down, name)
	}
	sort.Strings(down)
	return Snapshot{status, s.draining, down}, s.changed
}

// Knows says whether service is one this process serves ("" is the whole server).
func (s *State) Knows(service string) bool { return s.services[service] }

// SetDependency records a hard dependency's health.
func (s *State) SetDependency(name string, healthy bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if healthy {
		delete(s.down, name)
	} else {
		s.down[name] = true
	}
	s.notify()
}

// Drain makes the process NOT_SERVING for good; watchers see it, then their streams end.
func (s *State) Drain() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.draining = true
	s.notify()
}

func (s *State) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}
