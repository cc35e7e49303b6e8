"""Per-account preferences of the console (its language). Thread-only."""

from __future__ import annotations

from sqlalchemy import Engine, Table, delete, insert, select

from pacs.auth.schema import Preference

PREFERENCE: Table = Preference.__table__  # type: ignore[attr-defined]
LANGUAGES = ("zh-CN", "en")


def get_all(engine: Engine, username: str) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(PREFERENCE.c.key, PREFERENCE.c.value).where(PREFERENCE.c.username == username)
        )
        return {str(key): str(value) for key, value in rows}


def put(engine: Engine, username: str, values: dict[str, str]) -> None:
    with engine.begin() as conn:
        for key, value in values.items():
            conn.execute(
                delete(PREFERENCE).where(PREFERENCE.c.username == username, PREFERENCE.c.key == key)
            )
            conn.execute(insert(PREFERENCE).values(username=username, key=key, value=value))
