"""Counts and disk usage for the console's overview: how much the archive holds, by modality,
what arrived today, and how full the storage disk is."""

from __future__ import annotations

import datetime as dt
import shutil

import trio
from pydantic import BaseModel
from quart import Blueprint
from quart_schema import validate_response
from sqlalchemy import Engine, func, select

from pacs.http.services import WebServices
from pacs.index.statements import INSTANCE, PATIENT, SERIES, STUDY


class Disk(BaseModel):
    total_bytes: int
    used_bytes: int
    free_bytes: int


class Stats(BaseModel):
    patients: int
    studies: int
    series: int
    instances: int
    stored_bytes: int
    instances_today: int
    series_by_modality: dict[str, int]
    disk: Disk


def counts(engine: Engine, today: dt.datetime) -> dict[str, object]:
    """Thread-only."""
    with engine.connect() as conn:

        def scalar(stmt: object) -> int:
            return int(conn.execute(stmt).scalar() or 0)  # type: ignore[call-overload]

        modalities = conn.execute(
            select(SERIES.c.modality, func.count()).group_by(SERIES.c.modality)
        ).all()
        return {
            "patients": scalar(select(func.count()).select_from(PATIENT)),
            "studies": scalar(select(func.count()).select_from(STUDY)),
            "series": scalar(select(func.count()).select_from(SERIES)),
            "instances": scalar(select(func.count()).select_from(INSTANCE)),
            "stored_bytes": scalar(select(func.sum(STUDY.c.size_bytes))),
            "instances_today": scalar(select(func.count()).where(INSTANCE.c.received_at >= today)),
            "series_by_modality": {str(m or "?"): int(n) for m, n in modalities},
        }


def blueprint(web: WebServices) -> Blueprint:
    bp = Blueprint("api_stats", __name__, url_prefix="/api")

    @bp.get("/stats")
    @validate_response(Stats)
    async def stats() -> Stats:
        """What the archive holds and how full its disk is."""
        midnight = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        found = await trio.to_thread.run_sync(
            counts, web.engine, midnight, limiter=web.limits.db_read
        )
        usage = await trio.to_thread.run_sync(shutil.disk_usage, web.area.root)
        disk = Disk(total_bytes=usage.total, used_bytes=usage.used, free_bytes=usage.free)
        return Stats(**found, disk=disk)  # type: ignore[arg-type]

    return bp
