"""What the registry does before it serves: open the database and migrate it."""

from __future__ import annotations

import logging

from iglu_registry import db
from iglu_registry.store import SchemaStore
from libs.iglu_repositories import BUILTIN_SCHEMAS

logger = logging.getLogger(__name__)

# The schemas that ship with Furrow. They are served from these files, never stored in the
# database, so a publication of the same key (e.g. Iglu Central's text) never conflicts.
CORE_SCHEMAS = BUILTIN_SCHEMAS


def open_store(database_url: str) -> SchemaStore:
    """A store on a migrated database."""
    engine = db.create(database_url)
    db.migrate(engine)
    schemas = SchemaStore(engine)
    logger.info("database ready", extra={"backend": schemas.backend})
    return schemas
