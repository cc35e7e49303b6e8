"""Bring an index an earlier pacs created up to `schema.SCHEMA_VERSION`, at startup.

`make_engine` creates missing tables but never alters existing ones: each step here does that
for one version. A step is idempotent and the new version is stamped only once it is complete,
so a start interrupted part-way simply repeats it. The main process runs it before any worker
process opens the index."""

from __future__ import annotations

import logging
import time

from sqlalchemy import Engine, Table, bindparam, func, inspect, select, text, update
from sqlalchemy.schema import CreateColumn
from sqlmodel import SQLModel

from pacs.index import schema
from pacs.index.names import PATIENT_NAME, PnSearch, pn_search_values

log = logging.getLogger("pacs.index")

BATCH = 5000  # rows per backfill transaction


def migrate(engine: Engine) -> None:
    """Apply every step the stamped version lacks; one query when there is none."""
    with engine.connect() as conn:
        stamped = conn.execute(text("SELECT value FROM meta WHERE key='schema_version'")).scalar()
    version = int(stamped or schema.SCHEMA_VERSION)
    if version >= schema.SCHEMA_VERSION:
        return
    log.info("index schema version %d: upgrading to %d", version, schema.SCHEMA_VERSION)
    if version < 2:
        add_pn_groups(engine, PATIENT_NAME)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE meta SET value = :v WHERE key='schema_version'"),
            {"v": str(schema.SCHEMA_VERSION)},
        )


def add_pn_groups(engine: Engine, search: PnSearch) -> None:
    """Version 2: the component groups of a name as columns (`pacs.index.names`), filled from
    the name, then indexed (indexing once afterwards is cheaper than row by row)."""
    table = SQLModel.metadata.tables[search.table]
    present = {column["name"] for column in inspect(engine).get_columns(search.table)}
    with engine.begin() as conn:
        for name in search.groups:
            if name not in present:
                column = CreateColumn(table.c[name]).compile(dialect=engine.dialect)
                conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {column}"))
    started = time.monotonic()
    rows = _backfill(engine, table, search)
    with engine.begin() as conn:
        for index in table.indexes:
            if {column.name for column in index.columns} & set(search.groups):
                index.create(conn, checkfirst=True)
    log.info(
        "index: %s groups filled for %d %s rows and indexed in %.1f s",
        search.source,
        rows,
        table.name,
        time.monotonic() - started,
    )


def _backfill(engine: Engine, table: Table, search: PnSearch) -> int:
    """Fill the group columns of every row, in primary key order, one transaction per batch."""
    key, source = table.c.id, table.c[search.source]
    fill = (
        update(table)
        .where(key == bindparam("pk_"))
        .values({name: bindparam(f"v_{name}") for name in search.groups})
    )
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(table)).scalar_one()
    log.info("index: filling the %s groups of %d %s rows", search.source, total, table.name)
    done, after = 0, None
    while True:
        page = select(key, source).order_by(key).limit(BATCH)
        with engine.begin() as conn:
            batch = conn.execute(page if after is None else page.where(key > after)).all()
            if not batch:
                return done
            values = [_group_values(pk, name or "", search) for pk, name in batch]
            conn.execute(fill, values)
        done, after = done + len(batch), batch[-1][0]
        log.debug("index: %d/%d %s rows filled", done, total, table.name)


def _group_values(pk: int, name: str, search: PnSearch) -> dict[str, object]:
    values = pn_search_values(name, search)
    return {"pk_": pk, **{f"v_{column}": values[column] for column in search.groups}}
