"""``python -m runner``: see runner/cli.py."""

import sys


def _main() -> int:
    # Imports inside the try: a Ctrl-C while grpc is still importing must not print a
    # traceback either.
    try:
        import os

        from runner.cli import main

        return main(sys.argv[1:], os.environ, sys.stdout, sys.stderr)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(_main())
