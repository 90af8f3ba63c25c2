"""The JSONPath subset the PII enrichment reads: `$` followed by `.name`, `['name']`, `[2]`,
`[*]`, `.*` and `..name`; parsed once per configuration, then followed in every event's JSON."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# A JSONPath step: ("key", name), ("index", n), ("all", None) or ("descend", name).
Step = tuple[str, Any]
_STEP = re.compile(
    r"""\.\.(?P<descend>[A-Za-z0-9_\-$@]+)
      | \.(?P<key>[A-Za-z0-9_\-$@]+)
      | \.\*(?P<dot_all>)
      | \[\s*(?P<index>[0-9]+)\s*\]
      | \[\s*\*\s*\](?P<bracket_all>)
      | \[\s*'(?P<single>[^']*)'\s*\]
      | \[\s*"(?P<double>[^"]*)"\s*\]""",
    re.VERBOSE,
)


def parse_json_path(path: str) -> tuple[Step, ...]:
    """The steps of a JSONPath in Furrow's subset; ValueError for anything else."""
    if not path.startswith("$"):
        raise ValueError(f"JSON path {path!r} does not start with $")
    steps: list[Step] = []
    position = 1
    while position < len(path):
        match = _STEP.match(path, position)
        if match is None:
            raise ValueError(f"JSON path {path!r}: cannot read {path[position:]!r}")
        if match["descend"] is not None:
            steps.append(("descend", match["descend"]))
        elif match["key"] is not None:
            steps.append(("key", match["key"]))
        elif match["index"] is not None:
            steps.append(("index", int(match["index"])))
        elif match["single"] is not None or match["double"] is not None:
            steps.append(
                ("key", match["single"] if match["single"] is not None else match["double"])
            )
        else:
            steps.append(("all", None))
        position = match.end()
    if not steps:
        raise ValueError("JSON path $ names the whole entity: name a member in it")
    return tuple(steps)


Location = tuple[Any, Any]
"""A value in a JSON document as (its dict or list, its key or index)."""


def locate(parent: Any, key: Any, steps: Iterable[Step]) -> list[Location]:
    """Where the steps lead from `parent[key]`."""
    locations: list[Location] = [(parent, key)]
    for kind, argument in steps:
        following: list[Location] = []
        for container, member in locations:
            value = container[member]
            if kind == "key":
                if isinstance(value, dict) and argument in value:
                    following.append((value, argument))
            elif kind == "index":
                if isinstance(value, list) and argument < len(value):
                    following.append((value, argument))
            elif kind == "all":
                if isinstance(value, dict):
                    following.extend((value, name) for name in value)
                elif isinstance(value, list):
                    following.extend((value, index) for index in range(len(value)))
            else:
                following.extend(_descend(value, argument))
        locations = following
    return locations


def _descend(value: Any, name: str) -> Iterable[Location]:
    if isinstance(value, dict):
        if name in value:
            yield (value, name)
        for child in value.values():
            yield from _descend(child, name)
    elif isinstance(value, list):
        for child in value:
            yield from _descend(child, name)
