"""Request and response models of the REST API; they also write its OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

SORTS = Literal[
    "study_date", "-study_date", "patient_name", "-patient_name", "received", "-received"
]


class StudySearch(BaseModel):
    """Study list filters: the QIDO-RS matching rules (wildcards, DA ranges like
    ``20240101-20241231``), names case-insensitive and by any component's prefix."""

    patient_id: str | None = None
    patient_name: str | None = None
    study_date: str | None = None
    modality: str | None = Field(None, description="CT, or several: CT\\MR")
    accession_number: str | None = None
    offset: int = Field(0, ge=0)
    limit: int = Field(50, ge=1, le=1000)
    sort: SORTS = "-study_date"


class StudyItem(BaseModel):
    study_uid: str
    patient_id: str
    patient_name: str
    patient_birth_date: str | None
    patient_sex: str
    study_date: str | None
    study_time: str | None
    accession_number: str
    description: str
    modalities: list[str]
    series: int
    instances: int


class StudyPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[StudyItem]


class SeriesItem(BaseModel):
    series_uid: str
    modality: str
    number: int | None
    description: str
    body_part: str
    instances: int


class StudyDetail(StudyItem):
    series_list: list[SeriesItem]


class Deleted(BaseModel):
    level: str
    uid: str
    instances: int
