"""What the registry does before it serves: open the database, migrate it, load core schemas."""

from __future__ import annotations

import logging
from pathlib import Path

from iglu_registry import db
from iglu_registry.store import SchemaStore
from iglu_registry.tree import read_tree

logger = logging.getLogger(__name__)

# The protocol's own schemas (tracker payloads, contexts, self-describing events and the bad
# rows Furrow emits), written for Furrow and laid out as a schema tree.
CORE_SCHEMAS = Path(__file__).resolve().parents[1] / "libs" / "builtin_schemas"


def open_store(database_url: str) -> SchemaStore:
    """A store on a migrated database that holds every core schema."""
    engine = db.create(database_url)
    db.migrate(engine)
    schemas = SchemaStore(engine)
    core, problems = read_tree(CORE_SCHEMAS)
    if problems:
        raise RuntimeError(f"broken core schema files: {problems}")
    added = schemas.seed((schema.key, schema.document) for schema in core)
    logger.info(
        "database ready",
        extra={"backend": schemas.backend, "core_schemas_added": added},
    )
    return schemas
