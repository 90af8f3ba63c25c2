import pytest

from bench.pipeline_probes import (
    cpu_ticks,
    is_jit_compiler,
    listening_inodes,
    machine_ticks,
    metric_total,
    resident_bytes,
)

STAT = "453 (cat) R 451 451 29883 0 -1 4194304 96 0 0 0 17 5 0 0 20 0 1 0 969591 3133440 358"
TCP = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  inode
   0: 0100007F:2384 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 48 1 0
   1: 0100007F:2384 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 77 1 0
   2: 00000000:23F0 00000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 91 1 0
"""
METRICS = """# HELP furrow_sink_documents_indexed_total Documents indexed
# TYPE furrow_sink_documents_indexed_total counter
furrow_sink_documents_indexed_total{index="good"} 1200.0
furrow_sink_documents_indexed_total{index="other one"} 34.0
furrow_sink_documents_indexed_created{index="good"} 1.7e+09
furrow_enrich_raw_records_total 5.0
furrow_enrich_raw_records_total_extra 7.0
"""


@pytest.mark.parametrize(
    ("stat", "ticks"),
    [
        (STAT, 22),
        # A command name with spaces and parentheses does not shift the fields.
        (STAT.replace("(cat)", "(py (x) y)"), 22),
    ],
)
def test_cpu_ticks_are_user_plus_system_time(stat: str, ticks: int) -> None:
    assert cpu_ticks(stat) == ticks


@pytest.mark.parametrize(
    ("name", "compiles"),
    [
        ("C2 CompilerThre", True),
        ("C1 CompilerThre", True),
        ("elasticsearch[n", False),
        ("Compiler (C2)", False),
        ("java", False),
    ],
)
def test_jit_compiler_threads_are_told_by_their_name(name: str, compiles: bool) -> None:
    assert is_jit_compiler(STAT.replace("(cat)", f"({name})")) is compiles


def test_resident_bytes_come_from_vmrss() -> None:
    status = "Name:\tpython\nVmHWM:\t  9000 kB\nVmRSS:\t  2048 kB\nThreads:\t3\n"
    assert resident_bytes(status) == 2048 * 1024
    with pytest.raises(ValueError):
        resident_bytes("Name:\tzombie\n")


@pytest.mark.parametrize(("port", "inodes"), [(9092, {48}), (9200, {91}), (8000, set())])
def test_listening_inodes_are_those_of_sockets_in_listen_state(port: int, inodes: set[int]) -> None:
    assert listening_inodes(TCP, port) == inodes


@pytest.mark.parametrize(
    ("name", "total"),
    [
        ("furrow_sink_documents_indexed_total", 1234.0),
        ("furrow_enrich_raw_records_total", 5.0),
        ("furrow_collector_events_total", 0.0),
    ],
)
def test_metric_totals_sum_every_label_set_of_that_name_only(name: str, total: float) -> None:
    assert metric_total(METRICS, name) == total


def test_machine_ticks_count_idle_and_iowait_as_not_busy() -> None:
    stat = "cpu  100 5 50 800 40 3 2 0 7 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"
    assert machine_ticks(stat) == (160, 1000)
