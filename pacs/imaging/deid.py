"""De-identification with the PS3.15 Annex E Basic Application Level Confidentiality Profile.

``deidentify`` walks a data set, sequences included, and applies Table E.1-1 (the rows in
``deid_table``) with the options of ``DeidOptions``. Attributes the table does not list are kept,
except private attributes (removed unless ``keep_private``), group lengths (stale once anything
changes) and instance UIDs (VR UI, not naming a class or syntax), which are replaced like the
table's U rows so that no original UID survives in an unlisted attribute.

UIDs and the patient pseudonym come from a keyed hash of the original value (``deid_values``), so
every instance of a study de-identified under one secret keeps its study, series, frame of
reference and cross references consistent, today and in a later run.

The caller's data set is never modified. The result is a new tree of data sets and elements;
values are copied, except immutable ones (strings, numbers, bytes) and buffered ones, which are
shared: the pixel data in particular is the very same ``bytes`` object, never duplicated. The
preamble (which may hold another file format's header) is not carried over."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import lru_cache

import attrs
from pydicom.dataelem import DataElement, empty_value_for_VR
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import UID

from pacs.errors import ImagingError, PacsError
from pacs.imaging import deid_table
from pacs.imaging.deid_values import (
    SCRUBBED_VRS,
    dummy_value,
    is_class_like,
    new_uid,
    pseudonym,
)

__all__ = ["DeidOptions", "action_for", "deidentify", "new_uid", "pseudonym", "resolve"]

SIMPLE_ACTIONS = frozenset({"D", "Z", "X", "K", "C", "U"})
COMBINED_ACTIONS = frozenset({"X/Z", "X/D", "Z/D", "X/Z/D", "X/Z/U*"})

DCM = "DCM"
BASIC_PROFILE = ("113100", "Basic Application Confidentiality Profile")
RETAIN_UIDS = ("113110", "Retain UIDs Option")
RETAIN_DATES = ("113106", "Retain Longitudinal Temporal Information Full Dates Option")
RETAIN_DEVICE = ("113109", "Retain Device Identity Option")
RETAIN_PRIVATE = ("113111", "Retain Safe Private Option")

# File meta attributes naming the sending or receiving site, and private meta information.
_SITE_META = frozenset({0x00020016, 0x00020017, 0x00020018, 0x00020026, 0x00020027, 0x00020028})
_PRIVATE_META = frozenset({0x00020100, 0x00020102})
_OVERLAY_DATA = 0x3000


def _check_secret(_instance: object, _attribute: object, value: str | bytes) -> None:
    if not isinstance(value, str | bytes) or not value:
        raise ImagingError("de-identification needs a non-empty secret (str or bytes)")


@attrs.frozen(kw_only=True)
class DeidOptions:
    """What the profile may keep. ``secret`` keys UID and pseudonym replacement: keep it to get
    the same replacements again (exports that must join up later), change it to make them
    unrelated. ``keep_private`` keeps every private attribute as it is: the caller vouches that
    they are safe, as the Retain Safe Private Option it is recorded under requires."""

    secret: str | bytes = attrs.field(validator=_check_secret, repr=False)
    keep_uids: bool = False  # Retain UIDs Option
    keep_dates: bool = False  # Retain Longitudinal Temporal Information Full Dates Option
    keep_device: bool = False  # Retain Device Identity Option
    keep_private: bool = False  # private attributes kept unfiltered
    patient_id: str | None = None  # replaces the pseudonym when given
    patient_name: str | None = None  # default: the Patient ID pseudonym


def resolve(action: str, vr: str) -> str:
    """Reduce a table action to one of D, Z, X, K, C, U for an attribute of VR ``vr``.

    The table offers a choice where the attribute's type depends on the IOD; without the IOD the
    de-identifier picks what is valid for every type and still hides the value:

    * any choice including D (``X/D``, ``Z/D``, ``X/Z/D``) becomes D: a dummy satisfies Type 1,
      where removal or an empty value would make the object invalid;
    * ``X/Z`` becomes Z: an empty value is valid for Type 2 and 3, and the table never offers
      ``X/Z`` for a Type 1 attribute;
    * ``X/Z/U*`` (image references) keeps the sequence (K) and lets its items be walked, so the
      referenced instance UIDs inside are replaced (U) consistently with the instances themselves;
      on a non-sequence it is U.

    D on a sequence keeps its items' structure and replaces the free text inside them with dummy
    values (see ``deidentify``); Z on a sequence empties it."""
    if action in SIMPLE_ACTIONS:
        return action
    if action not in COMBINED_ACTIONS:
        raise ImagingError(f"unknown de-identification action {action!r}")
    if action == "X/Z/U*":
        return "K" if vr == "SQ" else "U"
    return "D" if "D" in action.split("/") else "Z"


@lru_cache(maxsize=16)
def _actions(keep_uids: bool, keep_device: bool, keep_dates: bool) -> Mapping[int, str]:
    """Table E.1-1 flattened for one combination of options: tag -> action. An option's column
    overrides the basic action when the option is used and the column says something."""
    table: dict[int, str] = {}
    for tag, _keyword, basic, uids, device, dates in deid_table.ROWS:
        action = basic
        for used, column in ((keep_uids, uids), (keep_device, device), (keep_dates, dates)):
            if used and column:
                action = column
        table[tag] = action
    return table


def action_for(tag: int, options: DeidOptions) -> str | None:
    """The table's action for ``tag`` under ``options`` (possibly combined, see ``resolve``), from
    the single-attribute rows and then the range rules; None when the table does not list it."""
    found = _actions(options.keep_uids, options.keep_device, options.keep_dates).get(tag)
    if found is not None:
        return found
    for mask, value, _name, action in deid_table.RANGE_RULES:
        if tag & mask == value:
            return action
    return None


def _copy(elem: DataElement) -> DataElement:
    """A copy of ``elem`` that shares immutable and buffered values instead of duplicating them
    (the pixel data above all) and does not re-validate what was read."""
    value = elem.value
    if not (elem.is_buffered or isinstance(value, str | bytes | int | float)):
        value = copy.deepcopy(value)
    new = DataElement(
        elem.tag,
        elem.VR,
        value,
        is_undefined_length=elem.is_undefined_length,
        already_converted=True,
    )
    new.private_creator = elem.private_creator
    return new


def _new_uids(value: object, secret: str | bytes) -> object:
    """U on a value of any multiplicity: each UID replaced, empty values left empty."""
    if value is None or isinstance(value, str):
        return new_uid(value or "", secret)
    return [new_uid(str(v), secret) for v in _values(value)]


def _values(value: object) -> list[object]:
    """The values of an element as a list, whatever its multiplicity."""
    if value is None or value == "":
        return []
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        return [value]
    return list(value)


@attrs.define
class _Walker:
    """One pass over a data set tree under fixed options."""

    options: DeidOptions

    def dataset(self, src: Dataset, scrub: bool) -> Dataset:
        """The de-identified copy of ``src``; ``scrub`` is set inside a sequence whose action is
        D, where unlisted free text becomes a dummy too."""
        out = Dataset()
        dropped = self._overlay_groups(src)
        for elem in src:
            if elem.tag.group in dropped:
                continue
            new = self.element(elem, scrub)
            if new is not None:
                out.add(new)
        return out

    def _overlay_groups(self, src: Dataset) -> set[int]:
        """Overlay planes whose data the profile removes: without its Type 1 Overlay Data the
        rest of the plane would describe nothing and make the object invalid, so it all goes."""
        groups: set[int] = set()
        tags = src.keys()
        for tag in tags:
            group, number = tag >> 16, tag & 0xFFFF
            overlay = 0x6000 <= group <= 0x60FF and number == _OVERLAY_DATA
            if overlay and action_for(int(tag), self.options) == "X":
                groups.add(group)
        return groups

    def element(self, elem: DataElement, scrub: bool) -> DataElement | None:
        """The replacement for one element, or None to leave it out."""
        tag = int(elem.tag)
        if tag & 0xFFFF == 0:
            return None  # group length: obsolete, and wrong once values change
        if tag >> 16 & 1:
            return self._apply(elem, "K", scrub) if self.options.keep_private else None
        return self._apply(elem, self._action(elem, scrub), scrub)

    def _action(self, elem: DataElement, scrub: bool) -> str:
        listed = action_for(int(elem.tag), self.options)
        if listed is not None:
            return resolve(listed, elem.VR)
        if elem.VR == "UI" and not is_class_like(elem.keyword or ""):
            return "K" if self.options.keep_uids else "U"
        if scrub and elem.VR in SCRUBBED_VRS:
            return "D"
        return "K"

    def _apply(self, elem: DataElement, action: str, scrub: bool) -> DataElement | None:
        if action == "X":
            return None
        if elem.VR == "SQ":
            return self._sequence(elem, action, scrub)
        if action == "K":
            return _copy(elem)
        if action == "Z":
            return DataElement(elem.tag, elem.VR, empty_value_for_VR(elem.VR))
        if action == "U":
            new = _copy(elem)
            new.value = _new_uids(elem.value, self.options.secret)
            return new
        return DataElement(elem.tag, elem.VR, dummy_value(elem.VR))  # D, and C as D

    def _sequence(self, elem: DataElement, action: str, scrub: bool) -> DataElement:
        """Z empties the sequence; D and C keep its items with their free text replaced;
        K (and U, which cannot apply to a sequence as such) keeps them, walked like the top."""
        items: list[Dataset] = []
        if action != "Z":
            inner = scrub or action in ("D", "C")
            items = [self.dataset(item, inner) for item in elem.value]
        return DataElement(
            elem.tag, "SQ", Sequence(items), is_undefined_length=elem.is_undefined_length
        )


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    return "" if value is None else str(value)


def _patient(out: Dataset, src: Dataset, options: DeidOptions) -> None:
    """Patient ID and Name are Z in the table; Z allows a dummy, and a stable pseudonym is the
    dummy that keeps one patient's studies together (and viewers showing something)."""
    new_id = options.patient_id
    if new_id is None:
        new_id = pseudonym(_text(src, "PatientID"), options.secret, _text(src, "IssuerOfPatientID"))
    new_name = new_id if options.patient_name is None else options.patient_name
    if new_id or "PatientID" in out:
        out.PatientID = new_id
    if new_name or "PatientName" in out:
        out.PatientName = new_name


def method_codes(options: DeidOptions) -> list[tuple[str, str]]:
    """CID 7050 (code value, meaning) pairs for the profile and each option used."""
    codes = [BASIC_PROFILE]
    for used, code in (
        (options.keep_uids, RETAIN_UIDS),
        (options.keep_dates, RETAIN_DATES),
        (options.keep_device, RETAIN_DEVICE),
        (options.keep_private, RETAIN_PRIVATE),
    ):
        if used:
            codes.append(code)
    return codes


def _mark(out: Dataset, options: DeidOptions) -> None:
    """Record what was done. A data set de-identified before keeps its earlier methods; ours are
    appended, so the record tells the whole history."""
    codes = method_codes(options)
    out.PatientIdentityRemoved = "YES"
    methods = [str(m) for m in _values(out.get("DeidentificationMethod"))]
    methods += [meaning for _code, meaning in codes if meaning not in methods]
    out.DeidentificationMethod = methods
    items = list(out.get("DeidentificationMethodCodeSequence") or [])
    present = {
        (str(i.get("CodeValue", "")), str(i.get("CodingSchemeDesignator", ""))) for i in items
    }
    for value, meaning in codes:
        if (value, DCM) not in present:
            item = Dataset()
            item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, DCM, meaning
            items.append(item)
    out.DeidentificationMethodCodeSequence = Sequence(items)
    previous = _text(out, "LongitudinalTemporalInformationModified")
    if not options.keep_dates:
        out.LongitudinalTemporalInformationModified = "REMOVED"
    elif not previous:
        out.LongitudinalTemporalInformationModified = "UNMODIFIED"


def _file_meta(out: Dataset, src: Dataset, options: DeidOptions) -> None:
    """File meta that agrees with the new data set: the media storage instance UID follows the
    SOP Instance UID, and the sending/receiving site and private meta information go."""
    meta = getattr(src, "file_meta", None)
    if meta is None:
        return
    new = FileMetaDataset()
    for elem in meta:
        tag = int(elem.tag)
        if (tag in _SITE_META and not options.keep_device) or (
            tag in _PRIVATE_META and not options.keep_private
        ):
            continue
        new.add(_copy(elem))
    if "SOPInstanceUID" in out:
        new.MediaStorageSOPInstanceUID = out.SOPInstanceUID
    elif "MediaStorageSOPInstanceUID" in new and not options.keep_uids:
        new.MediaStorageSOPInstanceUID = UID(
            new_uid(str(new.MediaStorageSOPInstanceUID), options.secret)
        )
    out.file_meta = new


def deidentify(ds: Dataset, options: DeidOptions) -> Dataset:
    """Return a de-identified copy of ``ds`` (see the module docstring); ``ds`` is not modified.

    Raises ``ImagingError`` when ``ds`` is not a data set or cannot be read through (a value that
    does not decode, a broken sequence): half a de-identification must never be returned."""
    if not isinstance(ds, Dataset):
        raise ImagingError(f"cannot de-identify a {type(ds).__name__}: not a DICOM data set")
    if not isinstance(options, DeidOptions):
        raise ImagingError("de-identification options must be a DeidOptions")
    try:
        out = _Walker(options).dataset(ds, scrub=False)
        _patient(out, ds, options)
        _mark(out, options)
        _file_meta(out, ds, options)
        implicit, little = ds.original_encoding
        out.set_original_encoding(implicit, little, ds.original_character_set)
    except PacsError:
        raise
    except Exception as exc:  # a malformed data set fails in pydicom in many ways
        raise ImagingError(f"cannot de-identify the data set: {exc}") from exc
    return out
