"""Database engine: SQLite (WAL) by default, PostgreSQL when the URL says so. Thread-only."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import SQLModel

from pacs.auth import schema as _auth_tables  # noqa: F401  (its tables live in this database)
from pacs.index import schema
from pacs.index.migrate import migrate

log = logging.getLogger("pacs.index")

PG_TRGM_INDEXES = (
    ("patient", "name_norm"),
    ("study", "referring_physician_norm"),
    ("study", "description_norm"),
    ("patient", "patient_id"),
)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # NORMAL: a commit survives any process crash; files are fsynced separately and the
    # startup sweep re-indexes files whose commit a power cut took away.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA cache_size=-65536")
    cur.close()


def make_engine(url: str) -> Engine:
    """Create the engine and make sure the schema exists, at the current version."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False}, pool_size=16, max_overflow=16
        )
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True)
    SQLModel.metadata.create_all(engine)
    _stamp_version(engine)
    migrate(engine)
    if engine.dialect.name == "postgresql":
        _trigram_indexes(engine)
    return engine


def _stamp_version(engine: Engine) -> None:
    with engine.begin() as conn:
        row = conn.execute(text("SELECT value FROM meta WHERE key='schema_version'")).first()
        if row is None:
            conn.execute(
                text("INSERT INTO meta (key, value) VALUES ('schema_version', :v)"),
                {"v": str(schema.SCHEMA_VERSION)},
            )


def _trigram_indexes(engine: Engine) -> None:
    """Substring name search on PostgreSQL: pg_trgm GIN indexes, when the extension is allowed."""
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
            for table, column in PG_TRGM_INDEXES:
                conn.execute(
                    text(
                        f"CREATE INDEX IF NOT EXISTS ix_{table}_{column}_trgm ON {table} "
                        f"USING gin ({column} gin_trgm_ops)"
                    )
                )
    except SQLAlchemyError as exc:
        log.warning("pg_trgm not available (%s); substring name search will scan", exc)
