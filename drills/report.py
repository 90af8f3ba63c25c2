"""The drills' results as a table for people and as JSON (`drills/report.json`) for tools."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from drills.run import DrillResult

COLUMNS = (
    ("sent", "sent"),
    ("answered_200", "200"),
    ("refused", "refused/5xx"),
    ("unanswered", "no answer"),
    ("in_good", "in good"),
    ("in_bad", "in bad"),
    ("replayed", "replayed"),
    ("missing", "missing"),
    ("duplicates", "duplicates"),
    ("misplaced", "misplaced"),
    ("stored_unowed", "unowed stored"),
)


def table(results: list[DrillResult]) -> str:
    """One row per drill: the accounting, seconds to recover and to drain, the verdict."""
    header = ["drill", *(title for _, title in COLUMNS), "recover s", "drain s", "verdict"]
    rows = [header]
    for result in results:
        counts = asdict(result.tally) if result.tally else {}
        rows.append(
            [
                result.name,
                *(str(counts.get(name, "-")) for name, _ in COLUMNS),
                _seconds(result.recovery_s),
                _seconds(result.drain_s),
                "PASS" if result.passed else "FAIL",
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    for result in results:
        lines.extend(f"{result.name}: {note}" for note in result.notes)
        if result.error:
            lines.append(f"{result.name}: ERROR {result.error}")
    return "\n".join(lines)


def write_json(results: list[DrillResult], path: Path) -> None:
    document = [{**asdict(result), "passed": result.passed} for result in results]
    path.write_text(json.dumps(document, indent=2) + "\n")


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
