"""Reads of the index. Thread-only: every function blocks on the database."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, select

from pacs.index.statements import INSTANCE, SERIES, STUDY
from pacs.index.writes import DELETE_KEYS


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


def paths_of(engine: Engine, level: str, uid: str) -> list[str]:
    """The stored files of a study, series or instance (relative paths)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(INSTANCE.c.file_path)
            .join(SERIES, SERIES.c.id == INSTANCE.c.series_pk)
            .join(STUDY, STUDY.c.id == SERIES.c.study_pk)
            .where(DELETE_KEYS[level] == uid)
        )
        return [str(path) for path in rows.scalars()]
