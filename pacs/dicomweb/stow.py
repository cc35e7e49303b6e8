"""STOW-RS (PS3.18 10.5): ``multipart/related; type="application/dicom"`` bodies, each part
spooled to disk while the body arrives and stored through the same writer as C-STORE (same
durability, duplicates policy and charset repair). One part's failure does not stop the others;
the answer lists what was stored and what failed and why: 200 all stored, 202 some failed, 409
none stored."""

from __future__ import annotations

import functools
import logging
import tempfile
from pathlib import Path
from typing import Any

import attrs
import pydicom
import trio
from pydicom.errors import InvalidDicomError

from pacs.errors import PacsError
from pacs.http.multipart import (
    BadMultipart,
    MultipartReader,
    PartData,
    PartEnd,
    PartStart,
    PartTooLarge,
)
from pacs.http.problems import HttpProblem
from pacs.http.services import WebServices
from pacs.messages import Source, StoreRequest
from pacs.model.uids import is_valid_uid
from pacs.runtime import rpc

log = logging.getLogger("pacs.dicomweb")

PROCESSING_FAILURE = 0x0110
CANNOT_UNDERSTAND = 0xC000
STUDY_MISMATCH = 0xC409  # the part's study is not the one the URL names
NOT_DICOM_PART = 0xC122  # a part of a media type other than application/dicom
FLUSH = 1 << 20


@attrs.frozen(kw_only=True)
class Outcome:
    sop_class: str
    sop_instance: str
    study: str = ""
    series: str = ""
    failure: int = 0
    reason: str = ""


HEADER_KEYS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPClassUID", "SOPInstanceUID")


def _header(path: Path) -> dict[str, str]:
    """Thread-only: the identifying UIDs of a spooled part; InvalidDicomError if it is not
    DICOM."""
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=list(HEADER_KEYS))
        uids = {key: str(ds.get(key, "") or "") for key in HEADER_KEYS}
    except (OSError, ValueError, EOFError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidDicomError(str(exc)) from exc
    if not is_valid_uid(uids["SOPInstanceUID"]):
        raise InvalidDicomError("no valid SOP Instance UID")
    return uids


@attrs.define
class Receiver:
    """Turns the events of one body into spooled files, storing each as it completes."""

    web: WebServices
    study: str | None
    username: str
    outcomes: list[Outcome] = attrs.field(factory=list)
    _file: Any = None
    _path: Path | None = None
    _buffer: bytearray = attrs.field(factory=bytearray)
    _is_dicom: bool = True
    _fresh: bool = True  # nothing of the current part written yet

    async def event(self, event: PartStart | PartData | PartEnd) -> None:
        if isinstance(event, PartStart):
            media = event.headers.get("content-type", "application/dicom")
            self._is_dicom = media.split(";")[0].strip().lower() == "application/dicom"
            fd, name = tempfile.mkstemp(dir=self.web.area.spool, suffix=".stow")
            self._path = Path(name)
            self._fresh = True
            self._file = trio.wrap_file(open(fd, "wb"))  # noqa: ASYNC230, SIM115
        elif isinstance(event, PartData):
            self._buffer += event.data
            if len(self._buffer) >= FLUSH:
                await self._flush()
        else:
            await self._flush()
            await self._file.aclose()
            self._file = None
            await self._finish()

    async def _flush(self) -> None:
        if self._fresh:
            self._fresh = False
            if self._buffer[128:132] != b"DICM" and self._buffer[:2] == b"\x02\x00":
                # A data set with its file meta but without the preamble (some clients
                # write it so): stored as the Part 10 file it stands for.
                self._buffer[:0] = bytes(128) + b"DICM"
        if self._buffer:
            await self._file.write(bytes(self._buffer))
            self._buffer.clear()

    async def abandon(self) -> None:
        """The body broke off: drop the part being received."""
        if self._file is not None:
            await self._file.aclose()
            self._file = None
        if self._path is not None:
            self.web.area.discard(self._path)

    async def _finish(self) -> None:
        path, self._path = self._path, None
        assert path is not None
        try:
            outcome = await self._store(path)
        finally:
            self.web.area.discard(path)  # stored parts were moved away; the rest goes
        self.outcomes.append(outcome)

    async def _store(self, path: Path) -> Outcome:
        if not self._is_dicom:
            return Outcome(sop_class="", sop_instance="", failure=NOT_DICOM_PART,
                           reason="part is not application/dicom")  # fmt: skip
        try:
            uids = await trio.to_thread.run_sync(_header, path)
        except InvalidDicomError as exc:
            return Outcome(sop_class="", sop_instance="", failure=CANNOT_UNDERSTAND,
                           reason=f"not a DICOM file: {exc}")  # fmt: skip
        done = functools.partial(
            Outcome,
            sop_class=uids["SOPClassUID"],
            sop_instance=uids["SOPInstanceUID"],
            study=uids["StudyInstanceUID"],
            series=uids["SeriesInstanceUID"],
        )
        if self.study is not None and uids["StudyInstanceUID"] != self.study:
            reason = f"its study {uids['StudyInstanceUID']} is not {self.study} of the URL"
            return done(failure=STUDY_MISMATCH, reason=reason)
        request = StoreRequest(path=path, source=Source.STOW, calling_ae=self.username[:16],
                               sop_class_uid=uids["SOPClassUID"],
                               sop_instance_uid=uids["SOPInstanceUID"])  # fmt: skip
        try:
            await rpc.call(self.web.store, request, what="storage",
                           timeout=self.web.settings.dicom.store_timeout)  # fmt: skip
        except PacsError as exc:
            return done(failure=exc.dimse_status or PROCESSING_FAILURE, reason=exc.message)
        return done()


async def receive(web: WebServices, body: Any, boundary: str, receiver: Receiver) -> None:
    """Read the whole body, storing each part as it completes; 413 past the size limit."""
    limit = web.settings.http.stow_max_bytes
    reader = MultipartReader(boundary, max_part_bytes=limit)
    total = 0
    try:
        async for chunk in body:
            total += len(chunk)
            if total > limit:
                raise HttpProblem(
                    413, f"the request body exceeds {limit} bytes", headers={"Connection": "close"}
                )
            for event in reader.feed(chunk):
                await receiver.event(event)
        reader.finish()
    except BadMultipart as exc:
        await receiver.abandon()
        status = 413 if isinstance(exc, PartTooLarge) else 400
        raise HttpProblem(
            status, f"multipart body: {exc}", headers={"Connection": "close"}
        ) from None
    except BaseException:
        await receiver.abandon()
        raise
    if not receiver.outcomes:
        raise HttpProblem(400, "the body holds no parts")


def answer(outcomes: list[Outcome], study_url: str | None, base: str) -> tuple[int, dict[str, Any]]:
    """The status and the DICOM JSON body of the response."""
    stored = [o for o in outcomes if not o.failure]
    failed = [o for o in outcomes if o.failure]
    body: dict[str, Any] = {}
    if study_url:
        body["00081190"] = {"vr": "UR", "Value": [study_url]}
    if failed:
        body["00081198"] = {"vr": "SQ", "Value": [_failed(o) for o in failed]}
    if stored:
        body["00081199"] = {"vr": "SQ", "Value": [_stored(o, base) for o in stored]}
    status = 200 if not failed else 202 if stored else 409
    return status, body


def _ref(o: Outcome) -> dict[str, Any]:
    ref: dict[str, Any] = {}
    for tag, uid in (("00081150", o.sop_class), ("00081155", o.sop_instance)):
        ref[tag] = {"vr": "UI", "Value": [uid]} if is_valid_uid(uid) else {"vr": "UI"}
    return ref


def _failed(o: Outcome) -> dict[str, Any]:
    return {**_ref(o), "00081197": {"vr": "US", "Value": [o.failure]}}


def _stored(o: Outcome, base: str) -> dict[str, Any]:
    url = f"{base}/studies/{o.study}/series/{o.series}/instances/{o.sop_instance}"
    return {**_ref(o), "00081190": {"vr": "UR", "Value": [url]}}
