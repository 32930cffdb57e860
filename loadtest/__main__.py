"""python -m loadtest — the only place the load test reads its environment."""

import os
import sys

# This process forks the mesh's processes while grpc is loaded; grpc's fork handlers
# are not needed for fork+exec and only print warnings. Set before grpc is imported.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

from loadtest.cli import main  # after the grpc setting above

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], os.environ, sys.stdout))
