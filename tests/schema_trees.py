"""Writing schema files laid out `vendor/name/jsonschema/M-R-A`, for the tests of schema trees."""

import json
from pathlib import Path
from typing import Any

from libs.formats.iglu import SELF_DESCRIBING_SCHEMA


def write_schema(root: Path, vendor: str, name: str, version: str, **body: object) -> Path:
    """A self-describing schema with `body` at its place under `root`; its path."""
    path = root / vendor / name / "jsonschema" / version
    path.parent.mkdir(parents=True, exist_ok=True)
    self_object = {"vendor": vendor, "name": name, "format": "jsonschema", "version": version}
    path.write_text(json.dumps({"$schema": SELF_DESCRIBING_SCHEMA, "self": self_object, **body}))
    return path


def iglu_central_geolocation() -> dict[str, Any]:
    """The body (no `$schema`, no `self`) of Iglu Central's geolocation_context schemas, cut
    down: a text unlike Furrow's built-in one, for tests that publish over a built-in key."""
    return {
        "description": "Schema for client geolocation contexts",
        "type": "object",
        "properties": {
            "latitude": {"type": "number", "minimum": -90, "maximum": 90},
            "longitude": {"type": "number", "minimum": -180, "maximum": 180},
        },
        "required": ["latitude", "longitude"],
        "additionalProperties": False,
    }
