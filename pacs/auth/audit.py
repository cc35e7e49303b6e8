"""The audit log: who logged in (or failed to), deleted, changed settings or accounts, and when.
Thread-only: every function blocks on the database."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel
from sqlalchemy import Engine, Table, insert, select

from pacs.auth.schema import AuditEntry

AUDIT: Table = AuditEntry.__table__  # type: ignore[attr-defined]


class Entry(BaseModel):
    """One audit record (the API answers with this too)."""

    at: dt.datetime
    username: str
    action: str
    target: str
    detail: str
    address: str


def record(
    engine: Engine,
    username: str,
    action: str,
    target: str = "",
    *,
    detail: str = "",
    address: str = "",
) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(AUDIT).values(
                at=dt.datetime.now(dt.UTC),
                username=username,
                action=action,
                target=target[:256],
                detail=detail[:1024],
                address=address[:64],
            )
        )


def recent(engine: Engine, *, limit: int = 100, offset: int = 0) -> list[Entry]:
    stmt = select(AUDIT).order_by(AUDIT.c.id.desc()).limit(limit).offset(offset)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return [
        Entry(
            at=row.at if row.at.tzinfo else row.at.replace(tzinfo=dt.UTC),
            username=row.username,
            action=row.action,
            target=row.target,
            detail=row.detail,
            address=row.address,
        )
        for row in rows
    ]
