"""Counted by the kernel, not estimated: TCP connections, segments and loopback bytes of
the run's network namespace, and CPU seconds per process.

``/proc/net/snmp`` (Tcp ActiveOpens, OutSegs) and ``/proc/net/dev`` (the ``lo`` line)
count for the whole network namespace, so they mean "this run's traffic" only inside a
private one: ``python -m loadtest`` re-runs itself under ``unshare --net`` when it starts
the meshes itself (``private_netns_argv``) and brings ``lo`` up there. CPU comes from
``/proc/<pid>/stat`` (utime + stime).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

NETNS_ENV = "LOADTEST_IN_PRIVATE_NETNS"
"""Set in the re-run process, so it knows its kernel counters are its own."""

_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class NetCounters:
    active_opens: int
    passive_opens: int
    out_segments: int
    loopback_bytes: int
    """Bytes sent on ``lo`` (each byte on loopback is also received once: counted once)."""

    def minus(self, earlier: NetCounters) -> NetCounters:
        return NetCounters(
            self.active_opens - earlier.active_opens,
            self.passive_opens - earlier.passive_opens,
            self.out_segments - earlier.out_segments,
            self.loopback_bytes - earlier.loopback_bytes,
        )


def read_net_counters(proc: Path = Path("/proc")) -> NetCounters:
    """The namespace's TCP and loopback counters right now."""
    tcp = _snmp_table(proc / "net" / "snmp", "Tcp")
    return NetCounters(
        active_opens=tcp["ActiveOpens"],
        passive_opens=tcp["PassiveOpens"],
        out_segments=tcp["OutSegs"],
        loopback_bytes=_loopback_tx_bytes(proc / "net" / "dev"),
    )


def _snmp_table(path: Path, name: str) -> dict[str, int]:
    """One protocol's counters from /proc/net/snmp (a header line, then a value line)."""
    lines = [line.split() for line in path.read_text().splitlines() if line.startswith(name + ":")]
    if len(lines) != 2:
        raise ValueError(f"{path}: no {name} table")
    header, values = lines
    return {key: int(value) for key, value in zip(header[1:], values[1:], strict=True)}


def _loopback_tx_bytes(path: Path) -> int:
    for line in path.read_text().splitlines()[2:]:
        interface, _, fields = line.partition(":")
        if interface.strip() == "lo":
            # receive: bytes packets errs drop fifo frame compressed multicast; then transmit
            return int(fields.split()[8])
    raise ValueError(f"{path}: no lo interface")


def cpu_seconds(pid: int, proc: Path = Path("/proc")) -> float | None:
    """utime + stime of a process; None once it is gone."""
    try:
        text = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name may contain spaces and parentheses: split after the last ")".
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def cpu_by_process(pids: Mapping[str, int]) -> dict[str, float]:
    """CPU seconds so far of every named process still alive."""
    result = {}
    for name, pid in pids.items():
        seconds = cpu_seconds(pid)
        if seconds is not None:
            result[name] = seconds
    return result


def in_private_netns(env: Mapping[str, str]) -> bool:
    return env.get(NETNS_ENV) == "1"


def private_netns_argv(argv: Sequence[str], is_root: bool) -> list[str] | None:
    """The command that re-runs ``argv`` in a new network namespace, or None when this
    machine cannot make one (no ``unshare``)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    # Without root, a user namespace maps us to root inside it, which may create the
    # network namespace (if the kernel allows unprivileged user namespaces).
    mapping = [] if is_root else ["--map-root-user"]
    return [unshare, "--net", *mapping, "--", *argv]


def bring_loopback_up() -> None:
    """``ip link set lo up``, without needing iproute2: a new namespace starts with lo down."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(sock, _SIOCGIFFLAGS, request)[:18])[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | _IFF_UP))
