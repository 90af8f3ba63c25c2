"""Alembic's entry point: migrate over the connection `iglu_registry.db.migrate` hands in."""

from alembic import context
from sqlalchemy.engine import Connection

from iglu_registry.models import Base

connection: Connection = context.config.attributes["connection"]
# Batch mode lets later migrations alter SQLite tables, which support little ALTER TABLE.
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
