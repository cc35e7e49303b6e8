"""Synthetic CT corpus for the ingest benchmark, cached under data/bench/corpus/ by parameters.

Layout: ``<key>/part<k>/study<NNN>/series<M>/<NNNN>.dcm`` with studies dealt round-robin into the
parts, so one sender sends ``<key>`` and N parallel senders send one ``part<k>`` each.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from pydicom import dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

VERSION = 1
ROWS = COLS = 512
SERIES_PER_STUDY = 2
FRAME_BYTES = ROWS * COLS * 2
FRAMES_PER_CHUNK = 64  # large object: frames generated and written per chunk (32 MiB)

Log = Callable[[str], None]
_LOW_NIBBLE = bytes(b & 0x0F for b in range(256))


def _pixels(rng: random.Random, frames: int = 1) -> bytes:
    """Random 12-bit values in 16-bit little-endian words (high byte masked to its low nibble)."""
    data = bytearray(rng.randbytes(frames * FRAME_BYTES))
    data[1::2] = data[1::2].translate(_LOW_NIBBLE)
    return bytes(data)


@dataclass(frozen=True)
class Corpus:
    root: Path
    parts: list[Path]
    count: int
    nbytes: int


def _base(sop_uid: str) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = sop_uid
    ds.Modality = "CT"
    ds.Manufacturer = "PACS-BENCH"
    ds.KVP = "120"
    ds.SliceThickness = "1.0"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [0.7, 0.7]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = ROWS, COLS
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation = 0
    ds.RescaleIntercept, ds.RescaleSlope = "-1024", "1"
    ds.WindowCenter, ds.WindowWidth = "40", "400"
    return ds


def _study(ds: Dataset, study: int, study_uid: str) -> None:
    when = (date(2024, 1, 1) + timedelta(days=7 * study)).strftime("%Y%m%d")
    ds.PatientName = f"BENCH^PATIENT{study:04d}"
    ds.PatientID = f"BENCH{study:04d}"
    ds.StudyInstanceUID = study_uid
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = when
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "101500"
    ds.AccessionNumber = f"ACC{study:06d}"
    ds.StudyID = str(study + 1)
    ds.StudyDescription = "BENCH CT CHEST"
    ds.ReferringPhysicianName = ""


def _instance(study: int, study_uid: str, series: tuple[int, str, str], n: int) -> Dataset:
    number, series_uid, for_uid = series
    ds = _base(generate_uid())
    _study(ds, study, study_uid)
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = for_uid
    ds.SeriesNumber = number
    ds.SeriesDescription = f"BENCH AXIAL {number}"
    ds.InstanceNumber = n + 1
    ds.ImagePositionPatient = [-179.2, -179.2, float(n)]
    ds.SliceLocation = float(n)
    return ds


def _per_series(instances: int, studies: int) -> list[int]:
    total = studies * SERIES_PER_STUDY
    return [instances // total + (1 if k < instances % total else 0) for k in range(total)]


def _generate(dest: Path, instances: int, studies: int, parts: int, log: Log) -> int:
    rng = random.Random(20240101 + instances)
    counts = _per_series(instances, studies)
    nbytes = 0
    for study in range(studies):
        study_uid = generate_uid()
        for s in range(SERIES_PER_STUDY):
            folder = dest / f"part{study % parts}" / f"study{study:03d}" / f"series{s + 1}"
            folder.mkdir(parents=True, exist_ok=True)
            series = (s + 1, generate_uid(), generate_uid())
            for n in range(counts[study * SERIES_PER_STUDY + s]):
                ds = _instance(study, study_uid, series, n)
                ds.PixelData = _pixels(rng)
                path = folder / f"{n:04d}.dcm"
                dcmwrite(path, ds, enforce_file_format=True)
                nbytes += path.stat().st_size
        if (study + 1) % 5 == 0 or study + 1 == studies:
            log(f"  corpus: {study + 1}/{studies} studies written")
    return nbytes


def load_or_build(cache: Path, instances: int, studies: int, parts: int, log: Log) -> Corpus:
    """Return the cached corpus for these parameters, generating it first if absent."""
    key = f"ct{ROWS}-v{VERSION}-i{instances}-st{studies}-se{SERIES_PER_STUDY}-p{parts}"
    root = cache / key
    manifest = root / "manifest.json"
    if not manifest.exists():
        log(f"generating corpus {root} ...")
        tmp = cache / f"{key}.tmp{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        nbytes = _generate(tmp, instances, studies, parts, log)
        (tmp / "manifest.json").write_text(json.dumps({"count": instances, "bytes": nbytes}))
        shutil.rmtree(root, ignore_errors=True)
        tmp.rename(root)
    info = json.loads(manifest.read_text())
    part_dirs = [root / f"part{k}" for k in range(parts) if (root / f"part{k}").is_dir()]
    return Corpus(root=root, parts=part_dirs, count=info["count"], nbytes=info["bytes"])


def load_or_build_large(cache: Path, frames: int, log: Log) -> Path:
    """One multi-frame CT of ``frames`` x 512x512x16 bit, written in chunks (never whole in RAM)."""
    folder = cache / f"large-v{VERSION}-f{frames}"
    path = folder / "large.dcm"
    if path.exists():
        return path
    log(f"generating large object {path} ({frames * FRAME_BYTES / 1e6:.0f} MB) ...")
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "large.dcm.tmp"
    ds = _instance(9999, generate_uid(), (1, generate_uid(), generate_uid()), 0)
    ds.NumberOfFrames = frames
    dcmwrite(tmp, ds, enforce_file_format=True)
    rng = random.Random(frames)
    with tmp.open("ab") as f:
        # (7FE0,0010) OW, explicit VR little endian: tag, VR, 2 reserved bytes, 32-bit length
        f.write(struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, frames * FRAME_BYTES))
        for start in range(0, frames, FRAMES_PER_CHUNK):
            n = min(FRAMES_PER_CHUNK, frames - start)
            f.write(_pixels(rng, n))
    tmp.rename(path)
    return path
