"""`python -m drills [NAME...]` (`make drill`): run the named drills (default: all) on the
drills' own Kafka and Elasticsearch, print the table, write drills/report.json, exit 1 on any
failure.

Phase lengths come from FURROW_DRILL_KAFKA_DOWN_S (30), FURROW_DRILL_KAFKA_LONG_DOWN_S (120),
FURROW_DRILL_KAFKA_FLAP_S (10), FURROW_DRILL_ES_DOWN_S (60),
FURROW_DRILL_REGISTRY_DOWN_S (10), FURROW_DRILL_FORWARD_DOWN_S (30), FURROW_DRILL_WARMUP_S (10)
and FURROW_DRILL_SETTLE_S (10).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from drills import servers
from drills.catalog import DRILLS, Timings
from drills.pipeline import unused_ports
from drills.report import table, write_json
from drills.run import DrillResult, run_drill

REPORT = Path(__file__).resolve().parent / "report.json"


def timings_from(environ: dict[str, str]) -> Timings:
    defaults = Timings()

    def seconds(name: str, default: float) -> float:
        return float(environ.get(f"FURROW_DRILL_{name}", default))

    return Timings(
        warmup_s=seconds("WARMUP_S", defaults.warmup_s),
        settle_s=seconds("SETTLE_S", defaults.settle_s),
        kafka_down_s=seconds("KAFKA_DOWN_S", defaults.kafka_down_s),
        kafka_long_down_s=seconds("KAFKA_LONG_DOWN_S", defaults.kafka_long_down_s),
        kafka_flap_s=seconds("KAFKA_FLAP_S", defaults.kafka_flap_s),
        elasticsearch_down_s=seconds("ES_DOWN_S", defaults.elasticsearch_down_s),
        registry_down_s=seconds("REGISTRY_DOWN_S", defaults.registry_down_s),
        forward_down_s=seconds("FORWARD_DOWN_S", defaults.forward_down_s),
    )


async def run(names: list[str], timings: Timings) -> list[DrillResult]:
    own = await asyncio.to_thread(servers.start_own)
    results = []
    for name in names:
        logging.getLogger("drills").info("%s: starting", name)
        result = await run_drill(DRILLS[name], own, unused_ports(), timings, servers.RUN_DIR)
        results.append(result)
        print(table([result]), flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m drills", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"of {', '.join(DRILLS)}")
    parser.add_argument("--keep-servers", action="store_true", help="leave Kafka and ES running")
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    # Their request logs would drown the drills' own progress lines.
    for chatty in ("httpx", "elastic_transport", "aiokafka"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    names = arguments.names or list(DRILLS)
    if unknown := [name for name in names if name not in DRILLS]:
        parser.error(f"unknown drill {', '.join(unknown)}; the drills are {', '.join(DRILLS)}")
    try:
        results = asyncio.run(run(names, timings_from(dict(os.environ))))
    except KeyboardInterrupt:
        # The drill in hand has stopped its processes and removed its topics on the way out.
        print("interrupted: no report written", file=sys.stderr)
        return 130
    finally:
        if not arguments.keep_servers:
            servers.stop_own()
    print("\n" + table(results))
    write_json(results, REPORT)
    print(f"\nwritten to {REPORT}")
    return 0 if all(result.passed for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
