"""Data of the DICOMweb benchmark, generated once and cached under data/bench/dicomweb/.

- A CT series of 500 instances, 512x512x16 bit (about 0.5 MB each), with the header a CT scanner
  writes (geometry, exposure, window, rescale): what a viewer retrieves and asks metadata of.
- A search set: a synthetic archive of qr_index made real, one tiny (16x16) instance for every
  series of every study, carrying the patient, study and series attributes of its index rows, so
  that pacs and Orthanc hold the same files and the Q/R bench's query kinds find the same
  answers in both."""

from __future__ import annotations

import json
import os
import random
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydicom import dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from qr_index import IndexDb, load_or_build
from qr_move import MoveStudy, _instance
from sqlalchemy import create_engine, select

from pacs.index.statements import INSTANCE, PATIENT, SERIES, STUDY

VERSION = 1
CT_SIZE = 512
TINY = 16
HIGH_NIBBLE_OFF = bytes(b & 0x0F for b in range(256))  # 12-bit values in 16-bit words
Log = Callable[[str], None]


@dataclass(frozen=True)
class Series:
    """The retrieved series, as a `MoveStudy` (storescu, wait_stored) plus its series UID."""

    study: MoveStudy
    series_uid: str


@dataclass(frozen=True)
class SearchSet:
    """Tiny instances of a synthetic archive; ``db`` is its qr_index (stats: the query kinds)."""

    root: Path
    db: IndexDb
    instances: int
    nbytes: int


def _cached(root: Path, build: Callable[[Path], dict[str, Any]], log: Log) -> dict[str, Any]:
    """``root``/files built by ``build`` (returns the manifest) unless a manifest is there."""
    manifest = root / "manifest.json"
    if not manifest.exists():
        log(f"generating {root} ...")
        tmp = root.parent / f"{root.name}.tmp{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "files").mkdir(parents=True)
        meta = build(tmp / "files")
        meta["bytes"] = sum(p.stat().st_size for p in (tmp / "files").glob("*.dcm"))
        (tmp / "manifest.json").write_text(json.dumps(meta))
        shutil.rmtree(root, ignore_errors=True)
        tmp.rename(root)
    return dict(json.loads(manifest.read_text()))


def _ct(study_uid: str, series_uid: str, frame_uid: str, n: int, rng: random.Random) -> Dataset:
    """Instance ``n`` (1-based) of an axial CT series, 1.25 mm slices."""
    ds = _instance(study_uid, series_uid, n, 1, rng)  # the Q/R bench's CT: patient, study, UIDs
    ds.Rows = ds.Columns = CT_SIZE
    pixels = bytearray(rng.randbytes(CT_SIZE * CT_SIZE * 2))
    pixels[1::2] = pixels[1::2].translate(HIGH_NIBBLE_OFF)
    ds.PixelData = bytes(pixels)
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.Manufacturer, ds.ManufacturerModelName = "ACME", "Bench CT 64"
    ds.InstitutionName, ds.StationName = "General Hospital", "CT01"
    ds.ReferringPhysicianName, ds.PatientPosition = "Doe^Jane", "HFS"
    ds.SeriesDescription = ds.ProtocolName = "CHEST 1.25 mm"
    ds.BodyPartExamined, ds.ScanOptions = "CHEST", "HELICAL MODE"
    ds.ContentDate, ds.ContentTime = ds.StudyDate, ds.StudyTime
    ds.AcquisitionNumber, ds.FrameOfReferenceUID = 1, frame_uid
    ds.SliceThickness, ds.SpacingBetweenSlices = "1.25", "1.25"
    ds.KVP, ds.XRayTubeCurrent, ds.ExposureTime = "120", 250, 500
    ds.ConvolutionKernel, ds.GantryDetectorTilt = "STANDARD", "0"
    ds.PixelSpacing = ["0.703125", "0.703125"]
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    ds.ImagePositionPatient = ["-180", "-180", f"{-1.25 * n:.2f}"]
    ds.SliceLocation = f"{-1.25 * n:.2f}"
    ds.PositionReferenceIndicator = ""
    ds.WindowCenter, ds.WindowWidth = "40", "400"
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = "-1024", "1", "HU"
    return ds


def load_series(cache: Path, count: int, log: Log) -> Series:
    """The cached CT series of ``count`` instances, generated when absent."""

    def build(out: Path) -> dict[str, Any]:
        rng, study_uid, series_uid = random.Random(count), generate_uid(), generate_uid()
        frame_uid = generate_uid()
        for n in range(1, count + 1):
            ds = _ct(study_uid, series_uid, frame_uid, n, rng)
            dcmwrite(out / f"{n:04d}.dcm", ds, enforce_file_format=True)
        return {"study_uid": study_uid, "series_uid": series_uid}

    root = cache / f"series-ct{CT_SIZE}-v{VERSION}-i{count}"
    meta = _cached(root, build, log)
    study = MoveStudy(root / "files", meta["study_uid"], count, meta["bytes"])
    return Series(study, meta["series_uid"])


def _rows(db: IndexDb) -> Iterator[dict[str, Any]]:
    """Patient, study, series and first-instance values of every series of the index."""
    columns = [
        *(PATIENT.c[k] for k in ("patient_id", "name", "birth_date", "sex")),
        *(STUDY.c[k] for k in ("study_uid", "study_date", "study_time", "accession_number")),
        *(STUDY.c[k] for k in ("study_id", "referring_physician", "institution")),
        STUDY.c.description.label("study_description"),
        *(SERIES.c[k] for k in ("series_uid", "modality", "series_number", "body_part")),
        SERIES.c.description.label("series_description"),
        *(INSTANCE.c[k] for k in ("sop_uid", "sop_class_uid")),
    ]
    joined = (
        INSTANCE.join(SERIES, INSTANCE.c.series_pk == SERIES.c.id)
        .join(STUDY, SERIES.c.study_pk == STUDY.c.id)
        .join(PATIENT, STUDY.c.patient_pk == PATIENT.c.id)
    )
    query = select(*columns).select_from(joined).where(INSTANCE.c.instance_number == 1)
    engine = create_engine(db.url)
    try:
        with engine.connect() as conn:
            for row in conn.execute(query.order_by(INSTANCE.c.id)):
                yield dict(row._mapping)
    finally:
        engine.dispose()


def _tiny(row: dict[str, Any]) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = (
        row["sop_class_uid"],
        row["sop_uid"],
    )
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID, ds.SOPInstanceUID = row["sop_class_uid"], row["sop_uid"]
    ds.PatientName, ds.PatientID, ds.PatientSex = row["name"], row["patient_id"], row["sex"]
    ds.PatientBirthDate = row["birth_date"].strftime("%Y%m%d")
    ds.StudyInstanceUID, ds.SeriesInstanceUID = row["study_uid"], row["series_uid"]
    ds.StudyDate = ds.SeriesDate = row["study_date"].strftime("%Y%m%d")
    ds.StudyTime = ds.SeriesTime = row["study_time"]
    ds.AccessionNumber, ds.StudyID = row["accession_number"], row["study_id"]
    ds.StudyDescription, ds.SeriesDescription = row["study_description"], row["series_description"]
    ds.ReferringPhysicianName, ds.InstitutionName = row["referring_physician"], row["institution"]
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = row["modality"], row["series_number"], 1
    ds.BodyPartExamined = row["body_part"]
    ds.Rows = ds.Columns = TINY
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = bytes(range(TINY * TINY))
    return ds


def load_search_set(qr_cache: Path, cache: Path, studies: int, log: Log) -> SearchSet:
    """The cached tiny-instance set of an index of ``studies`` studies (index built if absent,
    in the Q/R bench's cache)."""
    db = load_or_build(qr_cache, studies, log)

    def build(out: Path) -> dict[str, Any]:
        count = 0
        for count, row in enumerate(_rows(db), 1):
            dcmwrite(out / f"{count:06d}.dcm", _tiny(row), enforce_file_format=True)
        return {"instances": count}

    meta = _cached(cache / f"search-{studies}-v{VERSION}", build, log)
    root = cache / f"search-{studies}-v{VERSION}" / "files"
    return SearchSet(root, db, meta["instances"], meta["bytes"])
