"""WADO-RS retrieval of whole instances (PS3.18 10.4): study, series or instance as
``multipart/related; type="application/dicom"``, one Part 10 file per part, streamed from disk.

The transfer syntax: absent → Explicit VR Little Endian, ``*`` → as stored, a UID → that syntax.
A file already in the asked syntax is streamed as it lies; any other goes through the imaging
actor, one instance at a time, so a study never sits in memory."""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import attrs
import trio

from pacs.errors import PacsError
from pacs.http.mediatypes import Offer
from pacs.http.multipart import closing, part_head
from pacs.http.problems import HttpProblem
from pacs.http.services import WebServices
from pacs.imaging import syntaxes
from pacs.index.retrieval import Located, locate
from pacs.messages import TranscodeRequest
from pacs.model.uids import is_valid_uid
from pacs.runtime import rpc

log = logging.getLogger("pacs.dicomweb")

EXPLICIT_LE = "1.2.840.10008.1.2.1"
CHUNK = 1 << 20
BATCH = 8 << 20  # whole files read in one thread call and sent as one chunk, at most
LARGE = 16 << 20  # files larger than this stream a chunk at a time
# Reads ahead of the sending: a batch is read while the one before is on its way out.
_READER = ThreadPoolExecutor(max_workers=2, thread_name_prefix="wado-read")
DICOM_OFFERS = (Offer("multipart/related", part_type="application/dicom"),)


def check_uids(**uids: str | None) -> None:
    for name, value in uids.items():
        if value is not None and not is_valid_uid(value):
            raise HttpProblem(400, f"{name} {value!r} is not a valid UID")


async def find(
    web: WebServices, study: str, series: str | None = None, sop: str | None = None
) -> list[Located]:
    """The instances a URL names; 404 when there are none."""
    check_uids(study=study, series=series, instance=sop)
    found = await trio.to_thread.run_sync(
        functools.partial(locate, web.engine, web.area.root, study, series, sop),
        limiter=web.limits.db_read,
    )
    if not found:
        what = "instance" if sop else "series" if series else "study"
        raise HttpProblem(404, f"no such {what} in the archive")
    return found


def target_syntax(asked: str | None, stored: str) -> str:
    """The syntax to send: absent → Explicit VR LE, ``*`` → as stored; 406 if unknown."""
    if asked is None:
        return EXPLICIT_LE
    if asked == "*":
        return stored
    if syntaxes.lookup(asked) is None:
        raise HttpProblem(406, f"transfer-syntax {asked} is not one this server writes")
    return asked


async def file_chunks(path: Path, limiter: trio.CapacityLimiter) -> AsyncIterator[bytes]:
    """A file's bytes, a chunk at a time, each read in a thread."""
    async with limiter:
        handle = await trio.open_file(path, "rb")
    async with handle:
        while chunk := await handle.read(CHUNK):
            yield chunk


async def transcoded(web: WebServices, item: Located, syntax: str) -> bytes:
    request = TranscodeRequest(
        path=item.path, transfer_syntax=syntax, quality=web.settings.imaging.quality
    )
    return await rpc.call(
        web.imaging, request, timeout=web.settings.imaging.timeout, what="imaging"
    )


async def once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def first_conversion(
    web: WebServices, items: Sequence[Located], asked: str | None
) -> dict[str, bytes]:
    """Convert the first instance before the response starts, so that a request it cannot
    satisfy is a 406 rather than a broken stream; returns it for `InstanceBody`."""
    item = items[0]
    syntax = target_syntax(asked, item.transfer_syntax)
    if syntax == item.transfer_syntax:
        return {}
    return {item.sop_uid: await transcoded(web, item, syntax)}


def _read_run(paths: Sequence[Path]) -> list[bytes | None]:
    """Thread-only: whole files from the front of ``paths``, together at most `BATCH` bytes
    (the first always, unless it is larger than `LARGE`: then none). None for a file that
    could not be read (gone since the query)."""
    out: list[bytes | None] = []
    used = 0
    for path in paths:
        try:
            size = path.stat().st_size
            if size > LARGE or (out and used + size > BATCH):
                break
            data: bytes | None = path.read_bytes()
        except OSError as exc:
            log.warning("WADO-RS: %s left out: %s", path.name, exc.strerror or exc)
            data, size = None, 0
        out.append(data)
        used += size
    return out


@attrs.define
class InstanceBody:
    """The multipart body of a WADO-RS retrieval. Runs of files sent as stored are read whole,
    several in one thread call, and leave as one chunk: per-file thread hops and per-part sends
    cost more than the copying. Files larger than `LARGE` stream a chunk at a time; instances
    to convert go through the imaging actor one at a time."""

    web: WebServices
    items: Sequence[Located]
    asked: str | None
    ready: dict[str, bytes]
    boundary: str
    _first: bool = True

    def _as_stored(self, item: Located) -> bool:
        return target_syntax(self.asked, item.transfer_syntax) == item.transfer_syntax

    def _head(self, syntax: str, size: int) -> bytes:
        headers = [
            ("Content-Type", f"application/dicom; transfer-syntax={syntax}"),
            ("Content-Length", str(size)),
        ]
        head = part_head(headers, self.boundary, first=self._first)
        self._first = False
        return head

    async def chunks(self) -> AsyncIterator[bytes]:
        for as_stored, group in itertools.groupby(self.items, key=self._as_stored):
            run = list(group)
            parts = self._stored(run) if as_stored else self._converting(run)
            async for chunk in parts:
                yield chunk
        yield closing(self.boundary, first=self._first)

    async def _converting(self, items: Sequence[Located]) -> AsyncIterator[bytes]:
        for item in items:
            syntax = target_syntax(self.asked, item.transfer_syntax)
            data = await self._converted(item, syntax)
            if data is not None:
                yield self._head(syntax, len(data)) + data

    async def _stored(self, items: Sequence[Located]) -> AsyncIterator[bytes]:
        """Files as they lie; the next batch is read while this one is being sent."""
        paths = [item.path for item in items]
        start = 0
        pending: Future[list[bytes | None]] | None = _READER.submit(_read_run, paths)
        while pending is not None:
            run = await trio.to_thread.run_sync(pending.result)
            end = start + max(len(run), 1)
            pending = _READER.submit(_read_run, paths[end:]) if end < len(paths) else None
            if not run:  # larger than LARGE: streamed
                item = items[start]
                async for chunk in self._large(item, item.transfer_syntax):
                    yield chunk
            else:  # each keeps its own stored syntax (with "*" they may differ)
                yield b"".join(
                    self._head(item.transfer_syntax, len(data)) + data
                    for item, data in zip(items[start:end], run, strict=True)
                    if data is not None
                )
            start = end

    async def _large(self, item: Located, syntax: str) -> AsyncIterator[bytes]:
        size = (await trio.Path(item.path).stat()).st_size
        yield self._head(syntax, size)
        async for chunk in file_chunks(item.path, self.web.limits.disk):
            yield chunk

    async def _converted(self, item: Located, syntax: str) -> bytes | None:
        try:
            return self.ready.pop(item.sop_uid, None) or await transcoded(self.web, item, syntax)
        except PacsError as exc:
            # The response is under way: leave this one out and say so in the log.
            log.warning("WADO-RS: %s left out: %s", item.sop_uid, exc.message)
            return None
