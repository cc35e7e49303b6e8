"""C-MOVE and C-GET SCP: resolve the identifier to stored instances, then hand pynetdicom one
data set at a time to send (read from disk, or converted into a transfer syntax the peer
accepted), so memory stays flat whatever the size of the study.

pynetdicom drives both handlers: a C-MOVE handler yields the destination (address, port and
the arguments of the association to open), then the number of sub-operations, then one
(status, data set) per instance; a C-GET handler starts at the number. pynetdicom runs the
C-STOREs, counts completed/failed/warning sub-operations, answers pending responses and builds
the final one with the Failed SOP Instance UID List.

Statuses of our own (both services): 0xA900 for an identifier without a valid Query/Retrieve
Level or without the unique key of that level; 0xC000 when the identifier cannot be decoded or
the calling AE is not permitted the operation (PS3.4 C.4.2.1.5 / C.4.3.1.4 define no
"not authorized" status for these services, so the generic "unable to process" carries an
Error Comment saying so); 0xA701 when the index cannot be read; 0xA801 for a C-MOVE destination
that is not a configured node; 0xA702 (unable to perform sub-operations) when the destination
is configured but no association can be opened with it (pynetdicom itself would answer 0xA801,
which would wrongly call a known destination unknown)."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import attrs
from pydicom.uid import UID
from pynetdicom import evt
from pynetdicom.dimse_primitives import C_GET, C_MOVE
from sqlalchemy.exc import SQLAlchemyError

from pacs.dicom import outbound
from pacs.dicom.ae import release_connection, tune_connection
from pacs.dicom.handlers.qr import QueryRetrieve
from pacs.dicom.handlers.sendhook import SendHook
from pacs.dicom.handlers.status import failure
from pacs.dicom.retrieve_keys import Refused, parse_keys
from pacs.errors import PacsError
from pacs.imaging import files
from pacs.imaging.syntaxes import lookup
from pacs.index.retrieval import StoredInstance, resolve
from pacs.messages import TranscodeRequest
from pacs.runtime import rpc
from pacs.settings import NodeSettings

log = logging.getLogger("pacs.dicom.retrieve")

PENDING = 0xFF00
CANCEL = 0xFE00
NOT_PERMITTED = 0xC000
MOVE_DESTINATION_UNKNOWN = 0xA801
SUB_OPERATIONS_IMPOSSIBLE = 0xA702
MATCHES_IMPOSSIBLE = 0xA701
# yielded as the destination of a refused C-MOVE: pynetdicom never connects to it, because
# zero sub-operations follow (the final response then carries the refusal, see FinalResponse)
NOWHERE = ("", 0)


@attrs.define
class Retrieval:
    """One C-MOVE or C-GET: what it asked for, how it went, and its final response."""

    operation: str  # "C-MOVE" or "C-GET"
    caller: str
    destination: str = ""
    level: str = "-"
    count: int = 0
    started: float = attrs.field(factory=time.monotonic)
    refusal: PacsError | None = None
    comment: str = ""  # the first reason an instance could not be sent
    reported: set[str] = attrs.field(factory=set)
    # why an instance of a SOP class without usable context is not sent: log line, comment
    missing: tuple[str, str] = ("no usable presentation context for {}",) * 2
    node: NodeSettings | None = None
    link: str = "could not be reached"  # C-MOVE: how associating with the destination went
    store: Any = None  # C-MOVE: that association, once accepted
    answered: bool = False

    def permit(self, event: Any, qr: QueryRetrieve, operation: str) -> None:
        if not qr.permitted(event, operation):
            raise Refused(NOT_PERMITTED, f"{self.operation} not permitted for {self.caller}")

    def plan(self, event: Any, qr: QueryRetrieve) -> list[StoredInstance]:
        """The instances to send, or Refused: bad identifier, index trouble."""
        try:
            identifier = event.identifier
        except Exception as exc:  # pynetdicom decodes lazily; anything may surface here
            raise Refused(0xC000, f"cannot decode the identifier: {exc}") from exc
        self.level, keys = parse_keys(identifier, str(event.request.AffectedSOPClassUID))
        try:
            found = resolve(qr.engine, qr.settings.storage.path, keys)
        except SQLAlchemyError as exc:
            log.error("%s: reading the index failed: %s", self.operation, exc)
            raise Refused(MATCHES_IMPOSSIBLE, "the index cannot be read") from exc
        self.count = len(found)
        return found

    def skip(self, item: StoredInstance, reason: str, comment: str) -> None:
        """Note an instance that cannot be sent: the first ``comment`` (short, for the final
        response's Error Comment) is kept; each distinct ``reason`` is logged once."""
        self.comment = self.comment or comment
        if reason not in self.reported:
            self.reported.add(reason)
            log.warning("%s from %s: %s (%s)", self.operation, self.caller, reason, item.sop_uid)

    def converted(self, item: StoredInstance, syntax: str) -> None:
        log.debug("%s: %s converted to %s", self.operation, item.sop_uid, syntax)
        target = lookup(syntax)
        note = f"lossy {syntax}"
        if target is not None and target.lossy and note not in self.reported:
            self.reported.add(note)
            log.warning(
                "%s from %s: sending %s as %s, lossy: the peer accepted no lossless syntax for %s",
                self.operation,
                self.caller,
                outbound.syntax_name(item.transfer_syntax),
                outbound.syntax_name(syntax),
                _class_name(item.sop_class_uid),
            )

    def link_events(self) -> list[Any]:
        """Handlers for the association with the C-MOVE destination: TCP_NODELAY, and how far
        associating got (for the log line when it fails)."""

        def connected(event: Any) -> None:
            tune_connection(event)
            self.link = "did not accept the association"

        def accepted(event: Any) -> None:
            self.link, self.store = "accepted", event.assoc
            outbound.keep_responses(event.assoc)
            outbound.send_files(event.assoc)

        def rejected(event: Any) -> None:
            self.link = "rejected the association"

        return [
            (evt.EVT_CONN_OPEN, connected),
            (evt.EVT_CONN_CLOSE, release_connection),
            (evt.EVT_ACCEPTED, accepted),
            (evt.EVT_REJECTED, rejected),
        ]

    def finish(self, rsp: Any) -> None:
        """Amend pynetdicom's final response where it cannot say what we know, then log."""
        self.answered = True
        if self.refusal is not None:
            rsp.Status = self.refusal.dimse_status
            rsp.ErrorComment = _comment(self.refusal.message)
            for name in ("Completed", "Failed", "Warning", "Remaining"):
                setattr(rsp, f"NumberOf{name}Suboperations", None)
        elif self.node is not None and rsp.Status == MOVE_DESTINATION_UNKNOWN:
            self._unreachable(rsp, self.node)
        elif self.comment and rsp.Status not in (0x0000, CANCEL):
            rsp.ErrorComment = _comment(self.comment)
        self._log(rsp)

    def _unreachable(self, rsp: Any, node: NodeSettings) -> None:
        what = "accepted no presentation context" if self.store is not None else self.link
        log.error(
            "%s from %s: destination %s (%s at %s:%d) %s; %d instance(s) not sent",
            self.operation,
            self.caller,
            node.name,
            node.ae_title,
            node.host,
            node.port,
            what,
            self.count,
        )
        rsp.Status = SUB_OPERATIONS_IMPOSSIBLE
        rsp.ErrorComment = _comment(f"no association with {node.ae_title} {node.host}:{node.port}")
        rsp.NumberOfFailedSuboperations = self.count
        rsp.NumberOfCompletedSuboperations = rsp.NumberOfWarningSuboperations = 0

    def _log(self, rsp: Any) -> None:
        counts = [
            getattr(rsp, f"NumberOf{name}Suboperations", None)
            for name in ("Completed", "Failed", "Warning", "Remaining")
        ]
        log.info(
            "%s from %s%s, level %s: %d instance(s); completed %s, failed %s, warning %s,"
            " remaining %s; status 0x%04X%s; %.2f s",
            self.operation,
            self.caller,
            f" to {self.destination}" if self.operation == "C-MOVE" else "",
            self.level,
            self.count,
            *("-" if n is None else n for n in counts),
            rsp.Status,
            f" ({rsp.ErrorComment})" if rsp.ErrorComment else "",
            time.monotonic() - self.started,
        )


def _comment(text: str) -> str:
    """An Error Comment: LO, at most 64 characters of the default character set."""
    return text.encode("ascii", "replace").decode()[:64]


class FinalResponse(SendHook):
    """Hands pynetdicom's final response to one C-MOVE/C-GET request to ``on_final`` just
    before it is sent. pynetdicom builds that response itself (counts, Failed SOP Instance UID
    List) and offers no way to add an Error Comment to it, so this association's DIMSE provider
    sends through here until that response has gone (if the association ends first, the
    wrapper ends with it)."""

    def __init__(self, event: Any, on_final: Callable[[Any], None]) -> None:
        super().__init__(event.assoc)
        self._message_id = event.request.MessageID
        self._on_final = on_final

    def send(self, primitive: Any, context_id: int) -> None:
        final = (
            isinstance(primitive, C_MOVE | C_GET)
            and primitive.MessageIDBeingRespondedTo == self._message_id
            and primitive.Status not in (PENDING, 0xFF01)
        )
        if final:
            self.close()
            try:
                self._on_final(primitive)
            except Exception:  # the answer must still go out
                log.exception("amending the final response failed")
        self.forward(primitive, context_id)


def _converter(qr: QueryRetrieve) -> outbound.Convert:
    """Conversions go to the transcoder actor when this process runs one, else run here."""
    imaging, portal = qr.imaging, qr.portal
    if imaging is None or portal is None:
        return files.perform  # a codec's own exception types come back as ImagingError
    timeout = qr.settings.imaging.timeout

    def through_actor(request: TranscodeRequest) -> bytes:
        call = functools.partial(rpc.call, imaging, request, timeout=timeout, what="transcoder")
        return portal.run(call)

    return through_actor


def _sub_operations(
    event: Any,
    qr: QueryRetrieve,
    job: Retrieval,
    instances: list[StoredInstance],
    accepted: Callable[[str], list[str]],
) -> Iterator[tuple[Any, Any]]:
    """One (pending, data set) per instance; stops at a C-CANCEL or when a C-MOVE lost its
    destination. ``accepted`` gives the syntaxes usable for a SOP class."""
    convert, quality = _converter(qr), qr.settings.imaging.quality
    for item in instances:
        if event.is_cancelled:
            log.info("%s from %s: cancelled by the requestor", job.operation, job.caller)
            yield CANCEL, None
            return
        if job.store is not None and not job.store.is_established:
            lost = f"{job.destination} closed the association"
            yield failure(Refused(SUB_OPERATIONS_IMPOSSIBLE, lost)), None
            return
        ds = _dataset(job, item, accepted(item.sop_class_uid), convert, quality)
        if ds is None:
            with outbound.failing_quietly():
                yield PENDING, outbound.placeholder(item)
        else:
            yield PENDING, ds
        del ds  # one data set in memory at a time


def _dataset(
    job: Retrieval,
    item: StoredInstance,
    syntaxes: list[str],
    convert: outbound.Convert,
    quality: int,
) -> Any:
    """The data set to send for ``item``, or None (noted in ``job``) when it cannot be sent."""
    if not syntaxes:
        name = _class_name(item.sop_class_uid)
        job.skip(item, job.missing[0].format(name), job.missing[1].format(name))
        return None
    try:
        ds, syntax = outbound.prepare(item, syntaxes, convert, quality)
    except PacsError as exc:
        brief = exc.message.removeprefix(f"{item.path.name}: ")
        job.skip(item, f"cannot send {item.path}: {exc.message}", brief)
        return None
    except Exception:  # a defect: fail this instance, not the whole retrieve
        log.exception("%s: preparing %s failed", job.operation, item.path)
        job.skip(item, f"cannot send {item.path}: internal error", "internal error")
        return None
    if syntax != item.transfer_syntax:
        job.converted(item, syntax)
    return ds


def _class_name(uid: str) -> str:
    name = UID(uid).name
    return name if name and name != uid else uid


def _answered(event: Any, job: Retrieval, body: Iterator[Any]) -> Iterator[Any]:
    """Run a retrieve handler's ``body`` with its final response amended by ``job``."""
    FinalResponse(event, job.finish)
    try:
        yield from body
    except GeneratorExit:  # pynetdicom dropped the handler: answered, or the association is gone
        _unanswered(job)
        raise


def handle_move(event: Any, qr: QueryRetrieve) -> Iterator[Any]:
    destination = str(event.request.MoveDestination or "").strip()
    job = Retrieval(operation="C-MOVE", caller=qr.calling_ae(event), destination=destination)
    yield from _answered(event, job, _move(event, qr, job))


def _move(event: Any, qr: QueryRetrieve, job: Retrieval) -> Iterator[Any]:
    try:
        job.permit(event, qr, "move")
        node = qr.node(job.destination)
        if node is None:
            raise Refused(
                MOVE_DESTINATION_UNKNOWN, f"move destination {job.destination!r} is unknown"
            )
        instances = job.plan(event, qr)
    except Refused as exc:
        job.refusal = exc
        yield NOWHERE
        yield 0
        return
    job.node = node
    options = {
        "ae_title": node.ae_title,
        "contexts": outbound.proposed_contexts(instances),
        "evt_handlers": job.link_events(),
    }
    yield node.host, node.port, options
    yield len(instances)

    def accepted(sop_class: str) -> list[str]:
        contexts = job.store.accepted_contexts if job.store is not None else []
        return outbound.accepted_syntaxes(contexts, sop_class)

    job.missing = (
        "the destination accepted no presentation context for {}",
        "destination accepted no context for {}",
    )
    yield from _sub_operations(event, qr, job, instances, accepted)


def handle_get(event: Any, qr: QueryRetrieve) -> Iterator[Any]:
    job = Retrieval(operation="C-GET", caller=qr.calling_ae(event))
    yield from _answered(event, job, _get(event, qr, job))


def _get(event: Any, qr: QueryRetrieve, job: Retrieval) -> Iterator[Any]:
    outbound.send_files(event.assoc)
    try:
        job.permit(event, qr, "get")
        instances = job.plan(event, qr)
    except Refused as exc:
        job.refusal = exc
        yield 0
        return
    yield len(instances)

    def accepted(sop_class: str) -> list[str]:
        return outbound.accepted_syntaxes(event.assoc.accepted_contexts, sop_class)

    job.missing = (
        "the C-GET requestor did not offer the storage SCP role for {}",
        "no storage SCP role offered for {}",
    )
    yield from _sub_operations(event, qr, job, instances, accepted)


def _unanswered(job: Retrieval) -> None:
    if not job.answered:
        log.warning(
            "%s from %s, level %s: %d instance(s); the association ended before the final"
            " response; %.2f s",
            job.operation,
            job.caller,
            job.level,
            job.count,
            time.monotonic() - job.started,
        )
