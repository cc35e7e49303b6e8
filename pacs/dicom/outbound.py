"""Sending stored instances to a peer: which presentation contexts to propose, which accepted
transfer syntax each instance goes out in, and the data set to send in it.

An instance goes out as stored when the peer accepted that syntax. Otherwise the imaging layer
re-encodes it into an accepted syntax it can write: uncompressed first (cheap and exact), then
another lossless one; a lossy one only when the peer accepted nothing lossless. Thread-only:
data sets are read from disk, one at a time."""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID
from pynetdicom import build_context

from pacs.errors import ImagingError, PacsError, UnsupportedConversion
from pacs.imaging import syntaxes as ts
from pacs.imaging.transcode import supported_targets
from pacs.index.retrieval import StoredInstance
from pacs.messages import TranscodeRequest

log = logging.getLogger("pacs.dicom.retrieve")

# Proposed for every SOP class, next to each stored syntax: what any peer takes.
UNCOMPRESSED = (ts.EXPLICIT_LE, ts.IMPLICIT_LE)
# Among lossless targets, native ones first: exact, and far cheaper than re-compressing.
NATIVE_FIRST = (ts.EXPLICIT_LE, ts.IMPLICIT_LE, ts.DEFLATED_LE, ts.EXPLICIT_BE)
MAX_CONTEXTS = 128  # presentation context IDs are odd numbers 1-255

Convert = Callable[[TranscodeRequest], bytes]


class NoCommonSyntax(PacsError):
    """The peer accepted no transfer syntax this instance can be sent in."""

    dimse_status = 0xC000


@functools.cache
def _writable() -> frozenset[str]:
    return frozenset(supported_targets())


def proposed_contexts(instances: Iterable[StoredInstance]) -> list[Any]:
    """One context per SOP class with the uncompressed syntaxes, plus one per stored syntax
    that is not among them; within pynetdicom's limit of 128 (the uncompressed ones first, so
    that every class can at least be sent decompressed)."""
    pairs = dict.fromkeys(
        (i.sop_class_uid, i.transfer_syntax) for i in instances if i.sop_class_uid
    )
    classes = dict.fromkeys(sop_class for sop_class, _ in pairs)
    contexts = [build_context(sop_class, list(UNCOMPRESSED)) for sop_class in classes]
    contexts += [
        build_context(sop_class, [syntax])
        for sop_class, syntax in pairs
        if syntax and syntax not in UNCOMPRESSED
    ]
    if len(contexts) > MAX_CONTEXTS:
        log.warning(
            "%d presentation contexts needed, %d proposed: some instances will be decompressed"
            " or fail",
            len(contexts),
            MAX_CONTEXTS,
        )
    return contexts[:MAX_CONTEXTS]


def accepted_syntaxes(contexts: Iterable[Any], sop_class: str) -> list[str]:
    """The transfer syntaxes accepted for ``sop_class`` in contexts where this side may send
    C-STOREs (SCU role: always as requestor; for C-GET only if the requestor took SCP role)."""
    return [
        str(cx.transfer_syntax[0])
        for cx in contexts
        if str(cx.abstract_syntax) == sop_class and cx.as_scu
    ]


def targets(stored: str, accepted: Sequence[str]) -> list[str]:
    """Accepted syntaxes the imaging layer can convert ``stored`` into, best first: lossless
    (native first, then in the peer's order), or lossy ones only if no lossless one is
    accepted. Empty when the stored data cannot be converted at all (video, unknown syntax)."""
    source = ts.lookup(stored)
    if source is None or source.kind is ts.Kind.VIDEO:
        return []
    usable = [uid for uid in dict.fromkeys(accepted) if uid in _writable()]
    lossless = [uid for uid in usable if not ts.SYNTAXES[uid].lossy]
    lossless.sort(key=lambda uid: NATIVE_FIRST.index(uid) if uid in NATIVE_FIRST else 99)
    return lossless or [uid for uid in usable if ts.SYNTAXES[uid].lossy]


def syntax_name(uid: str) -> str:
    syntax = ts.lookup(uid)
    return f"{syntax.name} ({uid})" if syntax and syntax.kind is not ts.Kind.VIDEO else uid


def prepare(
    item: StoredInstance, accepted: Sequence[str], convert: Convert, quality: int
) -> tuple[Dataset, str]:
    """The data set to send for ``item`` and its transfer syntax, one of ``accepted``. Raises
    a PacsError saying why when there is none (NoCommonSyntax, or the conversion failed)."""
    if item.transfer_syntax in accepted:
        if not item.path.is_file():
            raise ImagingError(f"{item.path.name}: file not found")
        return file_backed(item), item.transfer_syntax
    choices = targets(item.transfer_syntax, accepted)
    if not choices:
        offered = ", ".join(syntax_name(uid) for uid in accepted) or "none"
        raise NoCommonSyntax(
            f"stored as {syntax_name(item.transfer_syntax)}; the peer accepted {offered}"
        )
    refused: list[str] = []
    for target in choices:
        request = TranscodeRequest(path=item.path, transfer_syntax=target, quality=quality)
        try:
            return _parse(convert(request)), target
        except UnsupportedConversion as exc:  # this pixel data cannot go there; try the next
            refused.append(exc.message)
    raise UnsupportedConversion("; ".join(refused))


def _parse(data: bytes) -> Dataset:
    try:
        return dcmread(io.BytesIO(data))
    except Exception as exc:  # the imaging layer wrote it: anything here is a defect
        raise ImagingError(f"cannot read the converted data set: {exc}") from exc


def placeholder(item: StoredInstance) -> Dataset:
    """What is yielded to pynetdicom for an instance that cannot be sent: it has no file meta,
    so pynetdicom's C-STORE fails before anything goes on the wire, and counts the instance as
    a failed sub-operation with its SOP Instance UID in the Failed SOP Instance UID List.
    Yield it inside ``failing_quietly()``."""
    ds = Dataset()
    ds.SOPClassUID = item.sop_class_uid
    ds.SOPInstanceUID = item.sop_uid
    return ds


_placeholder_out = threading.local()


class _PlaceholderNoise(logging.Filter):
    """Drops what pynetdicom logs about a placeholder's C-STORE (a warning and an error about
    the missing file meta, per instance): the real reason was logged once already. Only on the
    thread that yielded the placeholder, and only until that thread resumes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_placeholder_out, "active", False)


logging.getLogger("pynetdicom.service_class").addFilter(_PlaceholderNoise())


@contextlib.contextmanager
def failing_quietly() -> Iterator[None]:
    """Wrap the ``yield`` of a placeholder: pynetdicom fails its C-STORE while the handler is
    suspended there, on the same thread."""
    _placeholder_out.active = True
    try:
        yield
    finally:
        _placeholder_out.active = False


def keep_responses(assoc: Any) -> None:
    """Guard an outbound association against a race in pynetdicom: its reactor thread can take
    a C-STORE response off the queue just after ``send_c_store`` thought it paused, log it as
    unexpected and drop it, and the sender then waits out the DIMSE timeout (seen about once in
    a few thousand sub-operations on loopback). A response the reactor takes goes back on the
    queue, where the waiting sender finds it."""
    serve = assoc._serve_request

    def guarded(msg: Any, context_id: int) -> None:
        if not msg.is_valid_request:
            assoc.dimse.msg_queue.put((context_id, msg))
            return
        serve(msg, context_id)

    assoc._serve_request = guarded


FILE_ATTRIBUTE = "pacs_file"


def file_backed(item: StoredInstance) -> Dataset:
    """Stands for a file sent as stored: pynetdicom's retrieve loops want a Dataset, but reading
    and re-encoding the file costs most of a sub-operation. The association's C-STORE (see
    `send_files`) streams the file itself, its bytes never decoded."""
    ds = Dataset()
    ds.SOPClassUID = item.sop_class_uid
    ds.SOPInstanceUID = item.sop_uid
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = UID(item.transfer_syntax)
    object.__setattr__(ds, FILE_ATTRIBUTE, item.path)
    return ds


def send_files(assoc: Any) -> None:
    """Make ``assoc.send_c_store`` stream the file behind a `file_backed` data set (pynetdicom
    sends a path in chunks straight from disk); other data sets go as before. Idempotent."""
    if getattr(assoc, "_pacs_sends_files", False):
        return
    send = assoc.send_c_store

    def streaming(dataset: Any, *args: Any, **kwargs: Any) -> Any:
        path = dataset.__dict__.get(FILE_ATTRIBUTE) if isinstance(dataset, Dataset) else None
        return send(path if path is not None else dataset, *args, **kwargs)

    assoc.send_c_store = streaming
    assoc._pacs_sends_files = True
