"""Uploads from the console or a script: one DICOM file or a ZIP of them as the request body,
spooled to disk while it arrives, then stored like `pacs import` stores (the C-STORE path:
durable, indexed, duplicates policy and charset repair). Answers what was stored and what was
not, and why."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

import trio
from pydantic import BaseModel
from quart import Blueprint, request
from quart_schema import validate_response

from pacs.http.auth import require_writer
from pacs.http.problems import HttpProblem
from pacs.http.services import WebServices
from pacs.tools.importer import Importer, Report, collect

TYPES = ("application/dicom", "application/zip", "application/octet-stream")
UNREAD = {"Connection": "close"}  # refused before the body was read


class Failure(BaseModel):
    name: str
    reason: str


class Uploaded(BaseModel):
    stored: int
    duplicates: int
    failed: list[Failure]
    skipped: list[Failure]


class _NoBar:
    def update(self, _n: int) -> None:
        return None


async def _spool(web: WebServices, body: Any, limit: int) -> Path:
    """The request body in a spool file; 413 past ``limit`` bytes."""
    fd, name = tempfile.mkstemp(dir=web.area.spool, suffix=".upload")
    path, total = Path(name), 0
    try:
        async with trio.wrap_file(os.fdopen(fd, "wb")) as out:
            async for chunk in body:
                total += len(chunk)
                if total > limit:
                    raise HttpProblem(413, f"the upload exceeds {limit} bytes", headers=UNREAD)
                await out.write(chunk)
    except BaseException:
        web.area.discard(path)
        raise
    if total == 0:
        web.area.discard(path)
        raise HttpProblem(400, "the upload is empty")
    return path


def blueprint(web: WebServices) -> Blueprint:
    bp = Blueprint("api_upload", __name__, url_prefix="/api")

    @bp.post("/upload")
    @validate_response(Uploaded)
    async def upload() -> Uploaded:
        """Store the request body: a DICOM Part 10 file, or a ZIP archive of them
        (Content-Type application/dicom, application/zip or application/octet-stream)."""
        require_writer()
        kind = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind not in TYPES:
            accepted = ", ".join(TYPES)
            raise HttpProblem(
                415, f"upload a DICOM file or a ZIP ({accepted}), not {kind!r}", headers=UNREAD
            )
        path = await _spool(web, request.body, web.settings.http.stow_max_bytes)
        try:
            items = await trio.to_thread.run_sync(collect, [path])
            report = Report()
            importer = Importer(area=web.area, store=web.store, limits=web.limits,
                                report=report, bar=_NoBar())  # fmt: skip
            for item in items:
                await importer.import_one(item)
        finally:
            with contextlib.suppress(OSError):
                web.area.discard(path)
        label = request.args.get("name") or "upload"

        def named(entries: list[tuple[str, str]]) -> list[Failure]:
            return [Failure(name=_label(n, path, label), reason=r) for n, r in entries]

        outcomes = report.outcomes
        return Uploaded(
            stored=outcomes["stored"] + outcomes["replaced"],
            duplicates=outcomes["duplicate"],
            failed=named(report.failures),
            skipped=named(report.skipped),
        )

    return bp


def _label(item_label: str, spooled: Path, label: str) -> str:
    """ "<spool file>!member" as "<upload name>!member"."""
    return item_label.replace(str(spooled), label, 1)
