"""What a long-running service does about CPython's garbage collector."""

from __future__ import annotations

import gc


def freeze_long_lived_objects() -> None:
    """Keep every object that exists now (modules, configuration, an enricher's regexes and
    geo database, a benchmark's prepared input) out of the collector's sight from now on.
    Otherwise each full collection walks them all again, a large share of a service's CPU
    (see docs/performance.md)."""
    gc.collect()
    gc.freeze()
