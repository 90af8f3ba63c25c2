"""`python -m bench [PART ...]`: run the benchmark parts (all by default), print, write report."""

from __future__ import annotations

import argparse
import importlib
import sys

from bench.report import REPORT, Measurement, print_table, write_report

# Part name -> module with `run() -> list[Measurement]`; each starts what it needs itself.
PARTS: dict[str, str] = {
    "collector": "bench.collector",
    "registry": "bench.registry",
    "enrichments": "bench.enrichments",
    "enrich": "bench.enrich",
    "sinks": "bench.sinks",
    "archive": "bench.archive",
    "pipeline": "bench.pipeline",
    "console": "bench.console",
}


def main() -> int:
    arguments = argparse.ArgumentParser(prog="python -m bench")
    arguments.add_argument("parts", nargs="*", metavar="PART", help=", ".join(PARTS))
    parsed = arguments.parse_args()
    if unknown := set(parsed.parts) - set(PARTS):
        arguments.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    measurements: list[Measurement] = []
    for part in parsed.parts or list(PARTS):
        print(f"== {part}", flush=True)
        measurements.extend(importlib.import_module(PARTS[part]).run())
    print()
    print_table(measurements)
    write_report(measurements)
    print(f"\nreport: {REPORT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
