"""From a file to an index request: parse the header, summarise it, pick its place. Thread-only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import attrs

from pacs.messages import DatasetSummary, IndexRequest, PlacedFile, Source
from pacs.model.summary import summarize
from pacs.storage.dicomfile import read_header
from pacs.storage.layout import Layout


@attrs.frozen(kw_only=True)
class Parsed:
    summary: DatasetSummary
    transfer_syntax: str


def parse_file(
    path: Path, fallbacks: Sequence[str], *, sop_class_uid: str = "", sop_instance_uid: str = ""
) -> Parsed:
    ds = read_header(path)
    meta = ds.file_meta  # pynetdicom writes the command's UIDs here
    summary = summarize(
        ds,
        fallbacks=fallbacks,
        sop_class_uid=sop_class_uid or str(meta.get("MediaStorageSOPClassUID", "")),
        sop_instance_uid=sop_instance_uid or str(meta.get("MediaStorageSOPInstanceUID", "")),
    )
    return Parsed(summary=summary, transfer_syntax=str(ds.file_meta.TransferSyntaxUID))


def layout_path(layout: Layout, summary: DatasetSummary) -> str:
    return layout.render(
        {
            "StudyDate": summary.study.study_date,
            "StudyInstanceUID": summary.study.study_uid,
            "SeriesInstanceUID": summary.series.series_uid,
            "SOPInstanceUID": summary.instance.sop_uid,
            "PatientID": summary.patient.patient_id,
            "Modality": summary.series.modality,
        }
    )


def index_request(
    placed: PlacedFile, *, source: Source, calling_ae: str = "", replace: bool = False
) -> IndexRequest:
    return IndexRequest(
        summary=placed.summary,
        path=placed.rel,
        size=placed.size,
        transfer_syntax=placed.transfer_syntax,
        calling_ae=calling_ae,
        received_at=dt.datetime.now(dt.UTC),
        source=source,
        replace=replace,
    )
