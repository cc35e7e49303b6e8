"""Every message that crosses between actors: frozen, keyword-only value objects.

They carry paths, UIDs and summaries, never a pydicom Dataset, so they stay cheap to pass and
could cross a process boundary unchanged."""

from __future__ import annotations

import datetime as dt
import enum
from pathlib import Path
from typing import Any

import attrs


class Source(enum.StrEnum):
    DICOM = "dicom"
    IMPORT = "import"
    SWEEP = "sweep"
    STOW = "stow"


class StoreOutcome(enum.StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    REPLACED = "replaced"


@attrs.frozen(kw_only=True)
class PatientSummary:
    patient_id: str = ""
    issuer: str = ""
    name: str = ""
    birth_date: dt.date | None = None
    birth_time: str | None = None
    sex: str = ""
    other_ids: str = ""
    comments: str = ""


@attrs.frozen(kw_only=True)
class StudySummary:
    study_uid: str
    study_date: dt.date | None = None
    study_time: str | None = None
    accession_number: str = ""
    study_id: str = ""
    description: str = ""
    referring_physician: str = ""
    reading_physicians: str = ""
    institution: str = ""
    patient_age: str = ""
    patient_size: float | None = None
    patient_weight: float | None = None
    timezone_offset: str = ""


@attrs.frozen(kw_only=True)
class SeriesSummary:
    series_uid: str
    modality: str = ""
    series_number: int | None = None
    description: str = ""
    series_date: dt.date | None = None
    series_time: str | None = None
    body_part: str = ""
    laterality: str = ""
    protocol_name: str = ""
    station_name: str = ""
    manufacturer: str = ""
    model_name: str = ""
    performing_physician: str = ""
    pps_start_date: dt.date | None = None
    pps_start_time: str | None = None


@attrs.frozen(kw_only=True)
class InstanceSummary:
    sop_uid: str
    sop_class_uid: str
    instance_number: int | None = None
    content_date: dt.date | None = None
    content_time: str | None = None
    acquisition_datetime: str = ""
    image_type: str = ""
    rows: int | None = None
    columns: int | None = None
    bits_allocated: int | None = None
    number_of_frames: int | None = None
    photometric: str = ""


@attrs.frozen(kw_only=True)
class CharsetRepair:
    """One text value decoded with something other than what the file declared."""

    keyword: str
    declared: str
    used: str
    text: str


@attrs.frozen(kw_only=True)
class DatasetSummary:
    """Everything the index needs of one instance, already decoded to Unicode."""

    patient: PatientSummary
    study: StudySummary
    series: SeriesSummary
    instance: InstanceSummary
    charset: str = ""
    repairs: tuple[CharsetRepair, ...] = ()


@attrs.frozen(kw_only=True)
class PlacedFile:
    """A file already durable in the storage area, with what the index needs of it."""

    summary: DatasetSummary
    transfer_syntax: str
    rel: str  # relative to the storage area, '/'-separated
    size: int


@attrs.frozen(kw_only=True)
class StoreRequest:
    """A complete Part 10 file waiting in the spool (or, for imports, anywhere on disk).

    ``placed`` is set when the caller (an association thread) already placed the file itself,
    sparing two thread hops; the writer then only indexes and answers."""

    path: Path
    source: Source
    calling_ae: str = ""
    sop_class_uid: str = ""
    sop_instance_uid: str = ""
    consume: bool = True  # move the file in; False copies it (import of user files)
    placed: PlacedFile | None = None


@attrs.frozen(kw_only=True)
class StoreResult:
    outcome: StoreOutcome
    sop_instance_uid: str
    path: Path
    repairs: int = 0


@attrs.frozen(kw_only=True)
class IndexRequest:
    summary: DatasetSummary
    path: str  # relative to the storage area, '/'-separated
    size: int
    transfer_syntax: str
    calling_ae: str
    received_at: dt.datetime
    source: Source
    replace: bool = False


@attrs.frozen(kw_only=True)
class IndexResult:
    outcome: StoreOutcome
    path: str  # the path the index now holds for this instance
    superseded_path: str | None = None  # a file the caller should remove (replace/duplicate)
    patient_conflict: bool = False
    seq: int = 0


@attrs.frozen(kw_only=True)
class TranscodeRequest:
    """Re-encode the Part 10 file at ``path`` in ``transfer_syntax``; the answer is the new
    file's bytes (``quality`` 1-100 for lossy targets)."""

    path: Path
    transfer_syntax: str
    quality: int = 90


class Level(enum.StrEnum):
    """What a delete names."""

    STUDY = "study"
    SERIES = "series"
    INSTANCE = "instance"


@attrs.frozen(kw_only=True)
class DeleteRequest:
    """Remove every instance of a study, series or instance from the index."""

    level: Level
    uid: str


@attrs.frozen(kw_only=True)
class DeleteResult:
    """What the index no longer holds: the removed instances' files (relative paths) and
    their study."""

    paths: tuple[str, ...]
    study_uid: str = ""


@attrs.frozen(kw_only=True)
class AnonymizeRequest:
    """De-identify the Part 10 file at ``path`` (PS3.15 basic profile, keyed by ``secret``),
    then re-encode it in ``transfer_syntax`` when given; the answer is the new file's bytes."""

    path: Path
    secret: str = attrs.field(repr=False)
    transfer_syntax: str | None = None
    quality: int = 90


@attrs.frozen(kw_only=True)
class RenderRequest:
    """Render one frame of the Part 10 file at ``path``; the answer is the image's bytes.
    ``options`` is a ``pacs.imaging.render.RenderOptions`` (kept untyped here so this module
    stays free of the imaging libraries)."""

    path: Path
    options: Any
