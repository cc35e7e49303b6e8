"""Reads of the index. Thread-only: every function blocks on the database."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, func, select

from pacs.index.statements import INSTANCE, PATIENT, SERIES, STUDY


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


def instance_path(engine: Engine, sop_uid: str) -> str | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(INSTANCE.c.file_path).where(INSTANCE.c.sop_uid == sop_uid)
        ).first()
        return None if row is None else str(row.file_path)


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for name, table in (
                ("patients", PATIENT),
                ("studies", STUDY),
                ("series", SERIES),
                ("instances", INSTANCE),
            )
        }
