"""C-FIND SCP, patient and study root, answered entirely from the index.

Matches stream as pending responses while the database streams rows; C-CANCEL is honoured
between rows; at most ``[dicom] max_find_results`` come back (then 0xA700 says the query was
cut). Each response carries every key the query asked for (empty when unknown), with a Specific
Character Set that can represent its text: the query's own when it can, else UTF-8."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import attrs
from pydicom.charset import convert_encodings, encode_string
from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.uid import UID

from pacs.dicom.handlers.identifier import Encoder
from pacs.dicom.handlers.pending import PendingSender
from pacs.dicom.handlers.qr import QueryRetrieve
from pacs.dicom.handlers.status import failure
from pacs.errors import PacsError, QueryError
from pacs.index import query as index_query
from pacs.index.keys import KEYS, Key, Level
from pacs.model.charset import decode_value, parse_declared
from pacs.model.summary import TEXT_VRS

log = logging.getLogger("pacs.dicom.find")

PATIENT_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.1.1"
STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
CONTROL_KEYWORDS = frozenset({"QueryRetrieveLevel", "SpecificCharacterSet"})
PENDING, CANCELLED = 0xFF00, 0xFE00
SINGLE_TEXT = frozenset({"LT", "ST", "UT"})  # one value: a backslash is text


def handle_find(event: Any, qr: QueryRetrieve) -> Iterator[tuple[Any, Any]]:
    caller = qr.calling_ae(event)
    if not qr.permitted(event, "find"):
        log.warning("C-FIND from %s refused: not permitted", caller)
        yield failure(QueryError(f"C-FIND is not permitted for {caller}")), None
        return
    try:
        identifier = event.identifier
        level, query = _plan(identifier, str(event.request.AffectedSOPClassUID), qr)
    except PacsError as exc:
        log.warning("C-FIND from %s rejected: %s", caller, exc.message)
        yield failure(exc), None
        return
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("C-FIND from %s: unreadable identifier: %s", caller, exc)
        yield failure(QueryError(f"unreadable query identifier: {exc}")), None
        return
    yield from _answer(event, qr, identifier, level, query)


def _plan(
    identifier: Dataset, sop_class: str, qr: QueryRetrieve
) -> tuple[Level, index_query.Query]:
    level = index_query.level_of(identifier.get("QueryRetrieveLevel"))
    if sop_class == STUDY_ROOT_FIND and level is Level.PATIENT:
        raise QueryError("QueryRetrieveLevel: PATIENT is not a level of the Study Root model")
    values = query_values(identifier, qr.settings.charset.fallback)
    insensitive = qr.settings.dicom.case_insensitive_names
    return level, index_query.plan(level, values, case_insensitive=insensitive)


def _elements(identifier: Dataset) -> Iterator[tuple[int, str, str, Any]]:
    """(tag, keyword, VR, raw or parsed value) of each key, without pydicom decoding text with a
    declared character set that may be wrong."""
    for tag in list(identifier.keys()):
        elem = identifier.get_item(tag)
        keyword = keyword_for_tag(tag)
        vr = elem.VR or (dictionary_VR(tag) if keyword else "UN")
        if keyword not in CONTROL_KEYWORDS:
            yield int(tag), keyword, str(vr), elem.value


def query_values(identifier: Dataset, fallbacks: Sequence[str]) -> dict[str, object]:
    """keyword → query value. Text arrives as bytes in the declared character set, or in an
    undeclared one (GB18030 from a console that declares nothing): the same repair as for stored
    objects decides how to read it."""
    declared = parse_declared(identifier.get("SpecificCharacterSet"))
    values: dict[str, object] = {}
    for _tag, keyword, vr, value in _elements(identifier):
        if not keyword or vr == "SQ":
            continue
        if isinstance(value, bytes):
            text = value.decode("ascii", "replace")
            if vr in TEXT_VRS:
                text = decode_value(value, declared, vr=vr, fallbacks=fallbacks).text
            text = text.strip(" \x00")
            split = "\\" in text and vr not in SINGLE_TEXT
            values[keyword] = text.split("\\") if split else text
        elif isinstance(value, MultiValue | list | tuple):
            values[keyword] = [str(v) for v in value]
        else:
            values[keyword] = "" if value is None else str(value)
    return values


def _answer(
    event: Any, qr: QueryRetrieve, identifier: Dataset, level: Level, query: index_query.Query
) -> Iterator[tuple[Any, Any]]:
    limit = qr.settings.dicom.max_find_results
    implicit = _implicit_little_endian(event)
    shape = ResponseShape.of(identifier, level, qr.settings.dicom.ae_title, implicit=implicit)
    started, count = time.monotonic(), 0
    sender = PendingSender(event.assoc)  # pending responses skip pynetdicom's message objects
    try:
        # C-FIND defines no order: unordered lets the database use the most selective index
        for row in index_query.rows(qr.engine, query, limit=limit + 1, ordered=False):
            if event.is_cancelled:
                log.info("C-FIND from %s cancelled after %d match(es)", qr.calling_ae(event), count)
                yield CANCELLED, None
                return
            if count == limit:
                log.warning("C-FIND from %s cut at %d matches", qr.calling_ae(event), limit)
                cut = QueryError(f"more than {limit} matches; narrow the query")
                cut.dimse_status = 0xA700
                yield failure(cut), None
                return
            yield PENDING, shape.response(row)
            count += 1
    finally:
        sender.close()
    log.info(
        "C-FIND %s level from %s: %d match(es) in %.0f ms",
        level.name,
        qr.calling_ae(event),
        count,
        (time.monotonic() - started) * 1000,
    )


def _implicit_little_endian(event: Any) -> bool | None:
    """The context's syntax as `identifier.Encoder` takes it: implicit VR? (None: big endian
    or deflated, which only pydicom writes)."""
    syntax = UID(event.context.transfer_syntax)
    if not syntax.is_little_endian or syntax.is_deflated:
        return None
    return bool(syntax.is_implicit_VR)


@attrs.frozen(kw_only=True)
class ResponseShape:
    """What every match of one query carries, worked out once per query rather than per match:
    each requested key's tag, VR and index key (None: returned empty), and the encoder that
    writes plain matches straight to bytes."""

    level: Level
    ae_title: str
    fields: tuple[tuple[int, str, str, Key | None], ...]
    requested_charset: object
    encoder: Encoder | None

    @classmethod
    def of(
        cls, identifier: Dataset, level: Level, ae_title: str, *, implicit: bool | None = None
    ) -> ResponseShape:
        fields = []
        for tag, keyword, vr, _value in _elements(identifier):
            key = KEYS.get(keyword)
            fields.append(
                (tag, keyword, vr, key if key is not None and key.level <= level else None)
            )
        charset = identifier.get("SpecificCharacterSet")
        encoder = None
        if implicit is not None:
            fixed: list[tuple[int, str, object]] = [
                (0x00080052, "CS", level.name),
                (0x00080054, "AE", ae_title),
            ]
            if _as_charset(charset):  # as `_charset` answers for an all-ASCII match
                fixed.append((0x00080005, "CS", _as_charset(charset)))
            shape = [(tag, vr) for tag, _keyword, vr, _key in fields]
            encoder = Encoder(shape, fixed, implicit=implicit)
        return cls(
            level=level,
            ae_title=ae_title,
            fields=tuple(fields),
            requested_charset=charset,
            encoder=encoder,
        )

    def response(self, row: dict[str, Any]) -> Dataset:
        """One match: every requested key, in the query's VR, valued from the row or empty."""
        values = [
            None if key is None else index_query.dicom_value(key, row.get(keyword))
            for _tag, keyword, _vr, key in self.fields
        ]
        encoded = None if self.encoder is None else self.encoder.encode(values)
        if encoded is not None:
            return encoded
        ds = Dataset()
        texts: list[str] = []
        for (tag, _keyword, vr, _key), value in zip(self.fields, values, strict=True):
            if vr == "SQ":
                ds.add_new(tag, "SQ", [])
                continue
            if isinstance(value, str):
                texts.append(value)
            ds.add_new(tag, vr, value)
        ds.QueryRetrieveLevel = self.level.name
        ds.RetrieveAETitle = self.ae_title
        charset = _charset(texts, self.requested_charset)
        if charset:
            ds.SpecificCharacterSet = charset
        return ds


def _charset(texts: list[str], requested: object) -> str | list[str] | None:
    """The query's character set when it can encode every text, else UTF-8; none for ASCII."""
    if all(text.isascii() for text in texts):
        return _as_charset(requested)
    wanted = _as_charset(requested)
    if wanted:
        names = [wanted] if isinstance(wanted, str) else wanted
        try:
            encodings = convert_encodings(names)
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                for text in texts:
                    encode_string(text, encodings)
            return wanted
        except (UserWarning, LookupError, UnicodeError, ValueError):
            pass
    return "ISO_IR 192"


def _as_charset(value: object) -> str | list[str] | None:
    if not value:
        return None
    if isinstance(value, MultiValue | list | tuple):
        return [str(v) for v in value]
    return str(value)
