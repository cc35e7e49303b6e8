"""ZIP downloads of a study or series, streamed: the archive is written as the files are read,
one entry after another (stored, not compressed: DICOM pixel data is either compressed already
or barely compresses), so nothing larger than a piece of one file sits in memory."""

from __future__ import annotations

import functools
import zipfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import trio
from quart import Blueprint, Response

from pacs.dicomweb.retrieve import check_uids
from pacs.http.problems import HttpProblem
from pacs.http.services import WebServices
from pacs.index.retrieval import Located, locate

PIECE = 8 << 20  # files larger than this are copied into the archive a piece at a time


class _Sink:
    """Where the ZipFile writes: collected, and taken out between pieces. It cannot seek, so
    zipfile writes each entry's sizes after its data."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        return len(data)

    def flush(self) -> None:
        return None

    def take(self) -> bytes:
        out = bytes(self._buffer)
        self._buffer.clear()
        return out


def _name(item: Located) -> str:
    """The entry's path: UIDs only, so nothing received can shape a path."""
    return f"{item.study_uid}/{item.series_uid}/{item.sop_uid}.dcm"


async def zip_stream(
    items: Sequence[Located], limiter: trio.CapacityLimiter
) -> AsyncIterator[bytes]:
    sink = _Sink()
    archive = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True)  # type: ignore[call-overload]
    for item in items:
        size = (await trio.Path(item.path).stat()).st_size
        if size <= PIECE:
            add = functools.partial(archive.write, item.path, _name(item))
            await trio.to_thread.run_sync(add, limiter=limiter)
            yield sink.take()
            continue
        async for chunk in _large(archive, sink, item.path, _name(item), limiter):
            yield chunk
    await trio.to_thread.run_sync(archive.close)
    yield sink.take()


async def _large(
    archive: zipfile.ZipFile, sink: _Sink, path: Path, name: str, limiter: trio.CapacityLimiter
) -> AsyncIterator[bytes]:
    info = zipfile.ZipInfo.from_file(path, name)
    entry = await trio.to_thread.run_sync(
        functools.partial(archive.open, info, "w", force_zip64=True)
    )
    async with await trio.open_file(path, "rb") as source:
        while piece := await source.read(PIECE):
            await trio.to_thread.run_sync(entry.write, piece, limiter=limiter)
            yield sink.take()
    await trio.to_thread.run_sync(entry.close)
    yield sink.take()


def blueprint(web: WebServices) -> Blueprint:
    bp = Blueprint("api_archive", __name__, url_prefix="/api")

    async def download(study: str | None, series: str | None) -> Response:
        check_uids(study=study, series=series)
        items = await trio.to_thread.run_sync(
            locate, web.engine, web.area.root, study, series, limiter=web.limits.db_read
        )
        if not items:
            raise HttpProblem(404, f"no such {'series' if series else 'study'} in the archive")
        name = series or study
        response = Response(zip_stream(items, web.limits.disk), content_type="application/zip")
        response.headers["Content-Disposition"] = f'attachment; filename="{name}.zip"'
        response.timeout = None
        return response

    @bp.get("/studies/<study>/archive")
    async def study_archive(study: str) -> Response:
        """The study's files as a ZIP, streamed."""
        return await download(study, None)

    @bp.get("/series/<series>/archive")
    async def series_archive(series: str) -> Response:
        """The series' files as a ZIP, streamed."""
        return await download(None, series)

    return bp
