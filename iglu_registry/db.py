"""The database engine (SQLite file or PostgreSQL) and the migrations applied on start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL, Connection

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# SQLite waits this long for another writer's lock before giving up with "database is locked".
_SQLITE_BUSY_TIMEOUT_S = 30.0
# Connections whose transactions write; on SQLite they take the write lock when they begin.
WRITES = {"furrow_writes": True}


def database_url(url: str) -> URL:
    """`url` with the driver Furrow ships for it: psycopg 3 for PostgreSQL."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def create(url: str) -> Engine:
    """An engine for `url`; a SQLite file's directory is created if missing."""
    parsed = database_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=10)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        parsed,
        connect_args={"timeout": _SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
    )
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest migration; a no-op when it already is."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _configure_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    # pysqlite's own transaction handling would begin transactions lazily, in a way that lets two
    # writers both read and then deadlock on the write lock; _begin_sqlite takes over.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL: readers never wait for the writer, the writer never waits for readers.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_sqlite(connection: Connection) -> None:
    # IMMEDIATE takes the write lock up front, so a writer that checked the publishing order is
    # the only one writing until it commits; a second writer waits instead of failing.
    writes = connection.get_execution_options().get("furrow_writes", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")
