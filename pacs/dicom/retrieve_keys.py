"""The identifier of a C-MOVE or C-GET: its Query/Retrieve Level and unique keys, checked
against the information model the request was made in."""

from __future__ import annotations

from typing import Any

from pacs.errors import PacsError
from pacs.index.keys import UNIQUE_KEYS as INDEX_UNIQUE_KEYS
from pacs.index.keys import Level
from pacs.index.retrieval import RetrieveKeys

PATIENT_ROOT = "1.2.840.10008.5.1.4.1.2.1."
STUDY_ROOT = "1.2.840.10008.5.1.4.1.2.2."
LEVELS = tuple(level.name for level in Level)
UNIQUE_KEYS = {level.name: keyword for level, keyword in INDEX_UNIQUE_KEYS.items()}
IDENTIFIER_MISMATCH = 0xA900


class Refused(PacsError):
    """A request answered with a failure status before any sub-operation."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.dimse_status = status


def _values(identifier: Any, keyword: str) -> tuple[str, ...]:
    """The values of ``keyword``: a UID list (backslash-separated) gives several."""
    raw = identifier.get(keyword)
    if raw is None:
        return ()
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", "replace")
    items = str(raw).split("\\") if isinstance(raw, str) else [str(item) for item in raw]
    cleaned = (item.strip().rstrip("\x00").strip() for item in items)
    return tuple(dict.fromkeys(value for value in cleaned if value))


def _model_levels(sop_class: str) -> tuple[str, tuple[str, ...]]:
    if sop_class.startswith(STUDY_ROOT):
        return "Study Root", LEVELS[1:]
    return "Patient Root", LEVELS


def parse_keys(identifier: Any, sop_class: str) -> tuple[str, RetrieveKeys]:
    """The level and the keys that select instances. The unique key of the level is required;
    those of the levels above restrict further when present; those below are ignored.
    Raises Refused (0xA900) for a missing or unknown level or a missing unique key, and
    (0xC000) for an identifier whose values cannot be read."""
    model, levels = _model_levels(sop_class)
    try:
        level = str(identifier.get("QueryRetrieveLevel", "") or "").strip().upper()
        values = {keyword: _values(identifier, keyword) for keyword in UNIQUE_KEYS.values()}
    except Exception as exc:  # pydicom parses lazily: a malformed value surfaces here
        raise Refused(0xC000, f"cannot read the identifier: {exc}") from exc
    if not level:
        raise Refused(IDENTIFIER_MISMATCH, "Query/Retrieve Level (0008,0052) is missing")
    if level not in levels:
        raise Refused(IDENTIFIER_MISMATCH, f"level {level!r} is not one of the {model} model")
    key = UNIQUE_KEYS[level]
    if not values[key]:
        raise Refused(IDENTIFIER_MISMATCH, f"{key} is required at the {level} level")
    used = {UNIQUE_KEYS[name] for name in levels[: levels.index(level) + 1]}
    kept = {keyword: (found if keyword in used else ()) for keyword, found in values.items()}
    return level, RetrieveKeys(
        patient_ids=kept["PatientID"],
        study_uids=kept["StudyInstanceUID"],
        series_uids=kept["SeriesInstanceUID"],
        sop_uids=kept["SOPInstanceUID"],
    )
