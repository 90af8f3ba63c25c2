"""The registry's OpenAPI 3.0 document, and a browsable page rendered from it.

The page is plain HTML made on the server, so it works without any script or network access.
"""

from __future__ import annotations

import html
from typing import Any

from libs.formats.iglu import FORMAT_PATTERN, MAX_PART_LENGTH, NAME_PATTERN, VENDOR_PATTERN
from libs.version import VERSION

_MESSAGE = {"$ref": "#/components/schemas/Message"}
_JSON_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"type": "object"}}},
}


def _answer(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema or _MESSAGE}},
    }


def _path_parameter(name: str, pattern: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "pattern": f"^{pattern}$", "maxLength": MAX_PART_LENGTH},
    }


def _query_parameter(name: str, values: list[str], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string", "enum": values},
    }


_VENDOR = _path_parameter("vendor", VENDOR_PATTERN.pattern, "e.g. com.acme")
_NAME = _path_parameter("name", NAME_PATTERN.pattern, "e.g. ad_click")
_FORMAT = _path_parameter("format", FORMAT_PATTERN.pattern, "jsonschema")
_VERSION = _path_parameter(
    "version", "[1-9][0-9]{0,8}-(0|[1-9][0-9]{0,8})-(0|[1-9][0-9]{0,8})", "SchemaVer, e.g. 1-0-0"
)
_REPR = _query_parameter(
    "repr", ["uri", "canonical", "meta"], "URIs, whole schemas, or keys with metadata"
)
_IS_PUBLIC = _query_parameter(
    "isPublic", ["true", "false"], "readable without a key (default false)"
)
_LIST = {"type": "array", "items": {}}
_READ_ERRORS = {
    "400": _answer("invalid path part, repr or malformed API key"),
    "404": _answer("nothing readable with this key"),
}
_WRITE_ERRORS = {
    "400": _answer("not JSON, lint problems (listed in `report`), `self` not matching the URL"),
    "403": _answer("the API key cannot write this vendor"),
    "409": _answer("exists already, out of SchemaVer order, or isPublic unlike other versions"),
    "413": _answer("body larger than the configured limit"),
}
_WRITTEN = {"$ref": "#/components/schemas/Written"}


def _listing(summary: str, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "parameters": [*parameters, _REPR],
            "responses": {"200": _answer("schemas in SchemaVer order", _LIST), **_READ_ERRORS},
        }
    }


def document() -> dict[str, Any]:
    """The OpenAPI document served at `/api/openapi.json`."""
    key_parameters = [_VENDOR, _NAME, _FORMAT, _VERSION]
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Furrow schema registry",
            "version": VERSION,
            "description": "An Iglu Server-compatible registry of self-describing JSON Schemas. "
            "Send API keys in the `apikey` header.",
        },
        "components": {
            "securitySchemes": {"apikey": {"type": "apiKey", "in": "header", "name": "apikey"}},
            "schemas": {
                "Message": {
                    "type": "object",
                    "properties": {"message": {"type": "string"}, "report": {"type": "array"}},
                    "required": ["message"],
                },
                "Written": {
                    "type": "object",
                    "properties": {
                        "message": {"type": "string"},
                        "updated": {"type": "boolean"},
                        "location": {"type": "string"},
                        "status": {"type": "integer"},
                    },
                    "required": ["message", "updated", "location", "status"],
                },
            },
        },
        "security": [{}, {"apikey": []}],
        "paths": {
            "/api/schemas": {
                **_listing("Every schema readable with this key", []),
                "post": {
                    "summary": "Publish a self-describing schema at the key its `self` names",
                    "parameters": [_IS_PUBLIC],
                    "requestBody": _JSON_BODY,
                    "responses": {
                        "201": _answer("created", _WRITTEN),
                        "200": _answer("overwritten (patches allowed)", _WRITTEN),
                        **_WRITE_ERRORS,
                    },
                },
            },
            "/api/schemas/{vendor}": _listing("The vendor's schemas", [_VENDOR]),
            "/api/schemas/{vendor}/{name}": _listing("Every version of a name", [_VENDOR, _NAME]),
            "/api/schemas/{vendor}/{name}/{format}": _listing(
                "Every version in a format", [_VENDOR, _NAME, _FORMAT]
            ),
            "/api/schemas/{vendor}/{name}/{format}/{version}": {
                "get": {
                    "summary": "One schema; `$supersedes`/`$supersededBy` show supersession",
                    "parameters": [*key_parameters, _REPR],
                    "responses": {"200": _answer("the schema", {}), **_READ_ERRORS},
                },
                "put": {
                    "summary": "Publish a schema at this key (`self` optional, must match)",
                    "parameters": [*key_parameters, _IS_PUBLIC],
                    "requestBody": _JSON_BODY,
                    "responses": {
                        "201": _answer("created", _WRITTEN),
                        "200": _answer("overwritten (patches allowed)", _WRITTEN),
                        **_WRITE_ERRORS,
                    },
                },
                "delete": {
                    "summary": "Delete a schema (only when patches are allowed)",
                    "parameters": key_parameters,
                    "responses": {
                        "200": _answer("deleted"),
                        "400": _answer("invalid path part or malformed API key"),
                        "403": _answer("no write right, or patches are not allowed"),
                        "404": _answer("no such schema"),
                    },
                },
            },
            "/api/validation/validate/schema/jsonschema": {
                "post": {
                    "summary": "Lint a self-describing schema without publishing it",
                    "requestBody": _JSON_BODY,
                    "responses": {
                        "200": _answer("valid"),
                        "400": _answer("invalid; the problems are in `report`"),
                        "413": _answer("body larger than the configured limit"),
                    },
                },
            },
            "/api/validation/validate/instance": {
                "post": {
                    "summary": 'Validate {"schema": "iglu:...", "data": ...} against its schema',
                    "requestBody": _JSON_BODY,
                    "responses": {
                        "200": _answer("valid"),
                        "400": _answer("not self-describing JSON, or invalid (see `report`)"),
                        "404": _answer("the schema does not exist or is not readable"),
                        "413": _answer("body larger than the configured limit"),
                    },
                },
            },
            "/api/auth/keygen": {
                "post": {
                    "summary": "Make a read key and a write key for a vendor prefix (super key)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"vendorPrefix": {"type": "string"}},
                                    "required": ["vendorPrefix"],
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": _answer(
                            "the new keys",
                            {
                                "type": "object",
                                "properties": {
                                    "read": {"type": "string", "format": "uuid"},
                                    "write": {"type": "string", "format": "uuid"},
                                },
                            },
                        ),
                        "400": _answer("invalid vendor prefix or malformed API key"),
                        "403": _answer("not the super key"),
                        "413": _answer("body larger than the configured limit"),
                    },
                },
                "delete": {
                    "summary": "Delete one API key (super key)",
                    "parameters": [
                        {
                            "name": "key",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": _answer("deleted"),
                        "400": _answer("missing or malformed key"),
                        "403": _answer("not the super key"),
                        "404": _answer("no such key"),
                    },
                },
            },
            "/api/meta/health": _plain("Up", "OK"),
            "/api/meta/health/db": {
                "get": {
                    "summary": "The database answers",
                    "responses": {
                        "200": {"description": "OK", "content": {"text/plain": {}}},
                        "503": {"description": "unreachable", "content": {"text/plain": {}}},
                    },
                }
            },
            "/api/meta/changes": {
                "get": {
                    "summary": "Schemas published, patched or deleted since a cursor",
                    "description": (
                        "Resolvers poll it to forget their copies: without `after` it answers "
                        "the current cursor; with one, the readable schema URIs changed since "
                        "(`changes` null: the cursor is unknown or too old, forget them all)."
                    ),
                    "parameters": [
                        {
                            "name": "after",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 0},
                        }
                    ],
                    "responses": {
                        "200": _answer("the cursor and the changed schemas", {"type": "object"}),
                        "400": _answer("a cursor that is not a number"),
                    },
                }
            },
            "/api/meta/server": {
                "get": {
                    "summary": "Version, database, schema count, patches and the caller's rights",
                    "responses": {
                        "200": _answer("server information", {"type": "object"}),
                        "400": _answer("malformed API key"),
                    },
                }
            },
        },
    }


def _plain(summary: str, text: str) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "responses": {"200": {"description": text, "content": {"text/plain": {}}}},
        }
    }


def docs_page(spec: dict[str, Any]) -> str:
    """A self-contained HTML page listing every operation of `spec`."""
    sections: list[str] = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            parameters = "".join(
                f"<li><code>{_e(p['name'])}</code> ({_e(p['in'])})"
                f"{' ' + _e(p['description']) if 'description' in p else ''}</li>"
                for p in operation.get("parameters", [])
            )
            responses = "".join(
                f"<li><b>{_e(code)}</b> {_e(answer['description'])}</li>"
                for code, answer in operation["responses"].items()
            )
            body = "<p>Body: JSON</p>" if "requestBody" in operation else ""
            sections.append(
                f'<section><h2><span class="method">{method.upper()}</span> '
                f"<code>{_e(path)}</code></h2><p>{_e(operation['summary'])}</p>{body}"
                f"{f'<h3>Parameters</h3><ul>{parameters}</ul>' if parameters else ''}"
                f"<h3>Responses</h3><ul>{responses}</ul></section>"
            )
    info = spec["info"]
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{_e(info['title'])}</title><style>"
        "body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "section{border-top:1px solid #ccc;padding:.5rem 0}"
        ".method{background:#234;color:#fff;padding:0 .4rem;border-radius:3px}"
        "</style></head><body>"
        f"<h1>{_e(info['title'])} {_e(info['version'])}</h1><p>{_e(info['description'])}</p>"
        "<p>Machine-readable: <a href='/api/openapi.json'>/api/openapi.json</a></p>"
        f"{''.join(sections)}</body></html>"
    )


def _e(text: str) -> str:
    return html.escape(str(text))
