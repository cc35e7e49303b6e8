"""Reads of the index. Thread-only: every function blocks on the database."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, select

from pacs.index.statements import INSTANCE


def known_paths(engine: Engine, paths: Iterable[str]) -> set[str]:
    wanted = list(paths)
    if not wanted:
        return set()
    with engine.connect() as conn:
        rows = conn.execute(select(INSTANCE.c.file_path).where(INSTANCE.c.file_path.in_(wanted)))
        return set(rows.scalars())


def page_paths(engine: Engine, after_id: int, limit: int) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(INSTANCE.c.id, INSTANCE.c.file_path)
            .where(INSTANCE.c.id > after_id)
            .order_by(INSTANCE.c.id)
            .limit(limit)
        )
        return [(int(r.id), str(r.file_path)) for r in rows]
