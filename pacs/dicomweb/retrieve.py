"""WADO-RS retrieval of whole instances (PS3.18 10.4): study, series or instance as
``multipart/related; type="application/dicom"``, one Part 10 file per part, streamed from disk.

The transfer syntax: absent → Explicit VR Little Endian, ``*`` → as stored, a UID → that syntax.
A file already in the asked syntax is streamed as it lies; any other goes through the imaging
actor, one instance at a time, so a study never sits in memory."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import trio

from pacs.errors import PacsError
from pacs.http.mediatypes import Offer
from pacs.http.multipart import Part
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
    satisfy is a 406 rather than a broken stream; returns it for `instance_parts`."""
    item = items[0]
    syntax = target_syntax(asked, item.transfer_syntax)
    if syntax == item.transfer_syntax:
        return {}
    return {item.sop_uid: await transcoded(web, item, syntax)}


async def instance_parts(
    web: WebServices, items: Sequence[Located], asked: str | None, ready: dict[str, bytes]
) -> AsyncIterator[Part]:
    for item in items:
        syntax = target_syntax(asked, item.transfer_syntax)
        headers = [("Content-Type", f"application/dicom; transfer-syntax={syntax}")]
        if syntax == item.transfer_syntax:
            size = (await trio.Path(item.path).stat()).st_size
            headers.append(("Content-Length", str(size)))
            yield Part(headers=headers, chunks=file_chunks(item.path, web.limits.disk))
            continue
        try:
            data = ready.pop(item.sop_uid, None) or await transcoded(web, item, syntax)
        except PacsError as exc:
            # The response is under way: leave this one out and say so in the log.
            log.warning("WADO-RS: %s left out: %s", item.sop_uid, exc.message)
            continue
        headers.append(("Content-Length", str(len(data))))
        yield Part(headers=headers, chunks=once(data))
