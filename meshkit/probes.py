"""The plain-HTTP paths every process answers for operators and orchestrators.

Containers' health checks, VPC Lattice target groups and load balancers probe these
(they cannot speak gRPC health); the templates and Dockerfiles take the paths from here.
"""

LIVENESS_PATH = "/healthz"
"""The process is up and serving."""
METRICS_PATH = "/metrics"
"""Per-method and per-operation call counters (the load test's chattiness figures)."""
