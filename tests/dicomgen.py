"""Test data made on the fly: small but real DICOM instances."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
VIDEO_ENDOSCOPIC = "1.2.840.10008.5.1.4.1.1.77.1.1.1"


def make_ct(
    *,
    study: str | None = None,
    series: str | None = None,
    sop: str | None = None,
    patient_id: str = "PAT001",
    patient_name: str = "Doe^John",
    study_date: str | None = "20240305",
    modality: str = "CT",
    number: int = 1,
    rows: int = 32,
    columns: int = 32,
    bits: int = 16,
    seed: int = 0,
    **extra: Any,
) -> Dataset:
    """A CT-like instance with random pixels; ``extra`` sets more keywords."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = CT_IMAGE
    ds.SOPInstanceUID = sop or generate_uid()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "M"
    ds.StudyInstanceUID = study or generate_uid()
    ds.SeriesInstanceUID = series or generate_uid()
    if study_date is not None:
        ds.StudyDate = study_date
    ds.StudyTime = "101500"
    ds.AccessionNumber = "ACC1"
    ds.StudyID = "1"
    ds.StudyDescription = "Chest"
    ds.Modality = modality
    ds.SeriesNumber = 1
    ds.InstanceNumber = number
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = bits
    ds.BitsStored = 12 if bits == 16 else 8
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 0
    rng = np.random.default_rng(seed)
    dtype = np.uint16 if bits == 16 else np.uint8
    ds.PixelData = rng.integers(0, 2**ds.BitsStored, (rows, columns), dtype=dtype).tobytes()
    for key, value in extra.items():
        setattr(ds, key, value)
    return ds


def write(ds: Dataset, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def write_study(folder: Path, *, series: int = 2, per_series: int = 3, **kw: Any) -> list[Path]:
    """One study of ``series`` x ``per_series`` instances written under ``folder``."""
    study = kw.pop("study", None) or generate_uid()
    paths = []
    for s in range(series):
        series_uid = generate_uid()
        for i in range(per_series):
            ds = make_ct(study=study, series=series_uid, number=i + 1, seed=s * 100 + i, **kw)
            paths.append(write(ds, folder / f"s{s}_{i}.dcm"))
    return paths


def dataset_bytes(path: Path) -> bytes:
    """The bytes after the file meta group: what was sent on the wire."""
    data = path.read_bytes()
    assert data[128:132] == b"DICM"
    group_length = int.from_bytes(data[140:144], "little")
    return data[144 + group_length :]
