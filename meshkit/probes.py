"""The plain-HTTP paths every process answers for operators and orchestrators.

Containers' health checks, VPC Lattice target groups and load balancers probe these
(they cannot speak gRPC health); the templates and Dockerfiles take the paths from here.

Liveness and readiness are different questions. ECS replaces a task that fails its
container health check or its Lattice target-group check, so those ask only whether the
process is alive (LIVENESS_PATH): a dependency outage must not get healthy callers
killed. Whether the process should get traffic (not draining, dependencies up) is
readiness: READINESS_PATH here, and grpc.health.v1 for gRPC clients.
"""

LIVENESS_PATH = "/healthz"
"""200 while the process is up and its event loop answers, draining or not, whatever
its dependencies do."""
READINESS_PATH = "/readyz"
"""200 only while the process serves: not draining and every hard dependency healthy;
503 otherwise."""
METRICS_PATH = "/metrics"
"""Per-method and per-operation call counters (the load test's chattiness figures)."""
