"""Alembic migrations, applied by `iglu_registry.db.migrate` on every start.

A new migration is a module in `versions/` with `revision`, `down_revision`, `upgrade()` and
`downgrade()`, its `down_revision` the newest existing one.
"""
