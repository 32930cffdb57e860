"""python -m loadtest — the only place the load test reads its environment."""

import os
import sys

from loadtest.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], os.environ, sys.stdout))
