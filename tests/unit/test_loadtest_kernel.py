# ruff: noqa: E501 - /proc file samples, kept verbatim
"""Kernel counters are parsed from /proc as the kernel writes them, and differences taken
between two readings; CPU comes from utime + stime, whatever the command name holds."""

from __future__ import annotations

import os
from pathlib import Path

from loadtest.kernel import NetCounters, cpu_seconds, read_net_counters

SNMP = """Ip: Forwarding DefaultTTL InReceives
Ip: 1 64 1000
Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors
Tcp: 1 200 120000 -1 31 30 0 0 4 9000 9100 0 0 2 0
Udp: InDatagrams NoPorts
Udp: 5 0
"""
DEV = """Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:  123456     700    0    0    0     0          0         0   123456     700    0    0    0     0       0          0
  eth0: 999 9 0 0 0 0 0 0 888 8 0 0 0 0 0 0
"""


def _proc(tmp_path: Path, snmp: str = SNMP, dev: str = DEV) -> Path:
    (tmp_path / "net").mkdir(exist_ok=True)
    (tmp_path / "net" / "snmp").write_text(snmp)
    (tmp_path / "net" / "dev").write_text(dev)
    return tmp_path


def test_tcp_and_loopback_counters_are_read_by_name(tmp_path: Path) -> None:
    """ActiveOpens, PassiveOpens, OutSegs come from the Tcp table by column name; loopback
    bytes from lo's transmit column, not another interface's."""
    counters = read_net_counters(_proc(tmp_path))
    assert counters == NetCounters(31, 30, 9100, 123456)


def test_differences_between_readings_are_per_field() -> None:
    """A run's share is the later reading minus the earlier one."""
    later = NetCounters(40, 35, 10000, 200000)
    assert later.minus(NetCounters(31, 30, 9100, 123456)) == NetCounters(9, 5, 900, 76544)


def test_cpu_seconds_survive_a_command_name_with_spaces_and_parentheses(tmp_path: Path) -> None:
    """Fields are counted after the last ")", so "(a b) c)" cannot shift them."""
    ticks = os.sysconf("SC_CLK_TCK")
    (tmp_path / "42").mkdir()
    fields = ["S", *["0"] * 10, str(3 * ticks), str(ticks), *["0"] * 30]
    (tmp_path / "42" / "stat").write_text(f"42 ((a b) c)) {' '.join(fields)}\n")
    assert cpu_seconds(42, tmp_path) == 4.0
    assert cpu_seconds(43, tmp_path) is None


def test_the_real_proc_files_parse() -> None:
    """This machine's own /proc reads without error."""
    counters = read_net_counters()
    assert counters.loopback_bytes >= 0
    own = cpu_seconds(os.getpid())
    assert own is not None
    assert own > 0
