"""``python -m runner.guard MODULE [ARGS]``: run MODULE as ``python -m MODULE``
would, and send it SIGTERM when the runner that started it goes away.

The runner holds the write end of this process's stdin and never writes to it, so
end-of-file on stdin means the runner has exited — however it exited, SIGKILL included.
The service then drains and stops as it would on any SIGTERM. This works on every POSIX
system (unlike Linux's PR_SET_PDEATHSIG) and needs no ``preexec_fn`` in a parent that
runs gRPC threads.
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
import threading


def _terminate_when_stdin_closes() -> None:
    while os.read(sys.stdin.fileno(), 4096):
        pass  # the runner never writes; ignore anything that arrives anyway
    os.kill(os.getpid(), signal.SIGTERM)


def main() -> None:
    """Starts the watchdog thread, then runs the module as ``__main__``."""
    if len(sys.argv) < 2:
        print("usage: python -m runner.guard MODULE [ARGS]", file=sys.stderr)
        sys.exit(2)
    module = sys.argv[1]
    sys.argv = [sys.argv[0], *sys.argv[2:]]  # the module sees only its own arguments
    threading.Thread(target=_terminate_when_stdin_closes, name="mesh-guard", daemon=True).start()
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
