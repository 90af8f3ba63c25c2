"""Measurements, the printed table and the JSON report shared by every benchmark part."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

REPORT = Path(__file__).resolve().parent / "report.json"


@dataclass(frozen=True)
class Measurement:
    part: str
    name: str
    value: float
    unit: str
    # e.g. ">= 30000" or "<= 150"; None for numbers reported without a target (floors, p99s).
    target: str | None = None
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        operator, _, bound = self.target.partition(" ")
        limit = float(bound)
        return self.value >= limit if operator == ">=" else self.value <= limit


def print_table(measurements: list[Measurement]) -> None:
    headers = ("part", "measurement", "value", "unit", "target", "met", "note")
    rows = [
        (
            m.part,
            m.name,
            f"{m.value:,.2f}" if abs(m.value) < 10 else f"{m.value:,.1f}",
            m.unit,
            m.target or "",
            {True: "yes", False: "NO", None: ""}[m.met],
            m.note,
        )
        for m in measurements
    ]
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


def write_report(measurements: list[Measurement], path: Path = REPORT) -> None:
    """Merge `measurements` into the report, replacing earlier results of the same parts."""
    previous = json.loads(path.read_text()) if path.exists() else {"measurements": []}
    parts = {m.part for m in measurements}
    kept = [m for m in previous["measurements"] if m["part"] not in parts]
    report = {
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "measurements": kept + [{**asdict(m), "met": m.met} for m in measurements],
    }
    path.write_text(json.dumps(report, indent=2) + "\n")
