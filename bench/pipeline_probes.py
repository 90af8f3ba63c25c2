"""Readings of the texts the benchmark samples: a process's `/proc/<pid>/stat` and `status`,
the machine's `/proc/stat`, the kernel's table of TCP sockets (to find which process listens on
a port) and a Prometheus `/metrics` page. Pure: each function takes the text and returns the
number."""

from __future__ import annotations

import re

_LISTEN = "0A"
# HotSpot's JIT compiler threads are `C1 CompilerThreadN` and `C2 CompilerThreadN`; the kernel
# keeps the first 15 characters of a thread's name.
_JIT_COMPILER_THREADS = ("C1 CompilerThre", "C2 CompilerThre")


def cpu_ticks(stat: str) -> int:
    """User plus system clock ticks from `/proc/<pid>/stat`. The command name (field 2) may hold
    spaces and parentheses, so fields are counted after its closing parenthesis."""
    fields = stat[stat.rindex(")") + 2 :].split()
    # utime and stime are fields 14 and 15; after the name, the state is field 3.
    return int(fields[14 - 3]) + int(fields[15 - 3])


def is_jit_compiler(thread_stat: str) -> bool:
    """Whether `/proc/<pid>/task/<tid>/stat` is that of one of a JVM's JIT compiler threads."""
    name = thread_stat[thread_stat.index("(") + 1 : thread_stat.rindex(")")]
    return name.startswith(_JIT_COMPILER_THREADS)


def resident_bytes(status: str) -> int:
    """VmRSS from `/proc/<pid>/status`."""
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    if found is None:
        raise ValueError("no VmRSS: the process has exited")
    return int(found.group(1)) * 1024


def listening_inodes(tcp_table: str, port: int) -> set[int]:
    """Socket inodes listening on `port` in `/proc/net/tcp` or `/proc/net/tcp6`."""
    inodes = set()
    for line in tcp_table.splitlines()[1:]:
        columns = line.split()
        local_port = int(columns[1].rsplit(":", 1)[1], 16)
        if local_port == port and columns[3] == _LISTEN:
            inodes.add(int(columns[9]))
    return inodes


def metric_total(page: str, name: str) -> float:
    """The sum of a metric's samples over all its labels on a Prometheus text page (0 when
    absent: a counter is not shown before its first increment when it has labels)."""
    total = 0.0
    for line in page.splitlines():
        if line.startswith(name) and line[len(name) : len(name) + 1] in ("{", " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def machine_ticks(stat: str) -> tuple[int, int]:
    """(busy, total) clock ticks of all cores from `/proc/stat`'s first line: idle and iowait
    are not busy; guest time is already inside user time, so it is not added again."""
    fields = [int(value) for value in stat.split("\n", 1)[0].split()[1:9]]
    idle, iowait = fields[3], fields[4]
    return sum(fields) - idle - iowait, sum(fields)
