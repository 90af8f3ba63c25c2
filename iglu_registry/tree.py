"""Schema directories laid out `vendor/name/format/M-R-A`, as Iglu repositories keep them.

Each file holds one self-describing schema whose `self` names the key its path does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from libs.formats.iglu import IgluError, SchemaKey


@dataclass(frozen=True)
class TreeSchema:
    path: Path
    key: SchemaKey
    document: Any


@dataclass(frozen=True)
class TreeProblem:
    path: Path
    message: str


def read_tree(root: Path) -> tuple[list[TreeSchema], list[TreeProblem]]:
    """Every schema file under `root` in SchemaVer order (vendor, name, format, version), and
    the files that could not be read as one. Hidden files and directories are ignored."""
    schemas: list[TreeSchema] = []
    problems: list[TreeProblem] = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        if len(relative.parts) != 4:
            problems.append(TreeProblem(path, "not laid out as vendor/name/format/M-R-A"))
            continue
        try:
            key = SchemaKey.of(*relative.parts)
            document = orjson.loads(path.read_bytes())
        except IgluError as error:
            problems.append(TreeProblem(path, str(error)))
        except orjson.JSONDecodeError as error:
            problems.append(TreeProblem(path, f"not valid JSON: {error}"))
        else:
            schemas.append(TreeSchema(path, key, document))
    schemas.sort(key=lambda schema: schema.key)
    return schemas, problems
