"""Child processes: a server arm that is always stopped, and a bounded Python loader."""

from __future__ import annotations

import json
import select
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tools.bench.loader import LoadResult

REPO_ROOT = Path(__file__).resolve().parents[2]
"""Children run ``python -m tools.bench...`` from here, wherever we were started."""
SERVER_START_TIMEOUT_S = 30.0
SERVER_STOP_TIMEOUT_S = 10.0
LOADER_SLACK_S = 30.0
"""Beyond warm-up + duration, how long a loader may take to start and finish."""


@dataclass
class ServerProcess:
    """A running server arm; ``spans`` is filled in once it has stopped."""

    arm: str
    pid: int
    port: int
    log: Path
    spans: int | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"


def _read_json_line(stream: IO[bytes], timeout_s: float, what: str) -> dict[str, int]:
    ready, _, _ = select.select([stream], [], [], timeout_s)
    line = stream.readline() if ready else b""
    if not line:
        raise RuntimeError(f"{what}: no answer within {timeout_s:.0f} s")
    message: dict[str, int] = json.loads(line)
    return message


@contextmanager
def running_server(arm: str, workdir: Path, tag: str) -> Iterator[ServerProcess]:
    """Starts ``tools.bench.server ARM`` and stops it on every way out of the block.

    Its access log goes to ``workdir/<tag>.log`` and anything else it writes to stderr
    (a crash) to ``workdir/<tag>.stderr``.
    """
    log, stderr_path = workdir / f"{tag}.log", workdir / f"{tag}.stderr"
    with stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            [sys.executable, "-m", "tools.bench.server", arm, str(log)],
            stdin=subprocess.PIPE,  # held open: the server stops when it closes
            stdout=subprocess.PIPE,
            bufsize=0,  # unbuffered, so select() sees every line the server has written
            stderr=stderr,
            cwd=REPO_ROOT,
        )
    assert proc.stdout is not None
    try:
        try:
            ready = _read_json_line(proc.stdout, SERVER_START_TIMEOUT_S, f"{arm} server")
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n{stderr_path.read_text(errors='replace')}") from None
        server = ServerProcess(arm=arm, pid=proc.pid, port=ready["port"], log=log)
        yield server
        proc.terminate()  # SIGTERM: the server drains and reports its span count
        server.spans = _read_json_line(proc.stdout, SERVER_STOP_TIMEOUT_S, f"{arm} stop")["spans"]
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
        if proc.stdin is not None:
            proc.stdin.close()


def run_python_loader(
    server: ServerProcess, *, concurrency: int, warmup_s: float, duration_s: float
) -> LoadResult:
    """Runs ``tools.bench.loader`` to completion (killed if it overruns) and parses it."""
    argv = [
        sys.executable,
        "-m",
        "tools.bench.loader",
        server.target,
        f"--concurrency={concurrency}",
        f"--warmup={warmup_s}",
        f"--duration={duration_s}",
        f"--server-pid={server.pid}",
    ]
    done = subprocess.run(  # noqa: S603 - our own module, fixed arguments
        argv,
        capture_output=True,
        check=False,
        cwd=REPO_ROOT,
        timeout=warmup_s + duration_s + LOADER_SLACK_S,  # on expiry run() kills it
    )
    if done.returncode != 0:
        raise RuntimeError(f"loader failed against {server.arm}:\n{done.stderr.decode()}")
    return LoadResult(**json.loads(done.stdout))
