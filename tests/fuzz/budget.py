"""How hard the fuzz tests try: a small, reproducible budget inside `make test`, a large random one
under `make fuzz` (which sets FURROW_FUZZ_EXAMPLES)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Unset: the bounded, derandomised run of `make test` (the same examples on every run, no
# example database written). Set: that many examples per test, freshly random each run.
EXAMPLES_VARIABLE = "FURROW_FUZZ_EXAMPLES"
DEFAULT_EXAMPLES = 200

_requested = os.environ.get(EXAMPLES_VARIABLE)

FUZZ = settings(
    max_examples=int(_requested) if _requested else DEFAULT_EXAMPLES,
    derandomize=_requested is None,
    database=None,
    # Wall-clock limits would make the verdict depend on the machine's load; speed is measured
    # by `make bench`, never asserted.
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
