"""The index: patient, study, series, instance, plus the change log and charset repairs.

Main tags of each level are columns; names also have a normalised search form (``*_norm``:
upper-cased, accents and trailing carets removed), the patient name also each component group of
it (`pacs.index.names`); dates are dates; counts are materialised. Every column a query can
filter on carries an index."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from pacs.index.names import PATIENT_NAME

SCHEMA_VERSION = 2  # 2: patient.name_g1_norm, _g2_norm, _g3_norm (`pacs.index.migrate`)


def _s(length: int = 64, *, index: bool = False) -> str:
    """A text column defaulting to "". ``length`` documents the VR's limit; columns are unbounded
    because received values break VR limits and are kept as received."""
    del length
    result: str = Field(default="", index=index)
    return result


def _group() -> str:
    """A component group of a normalised name. The server default lets `pacs.index.migrate`
    add the column to a table that already has rows."""
    result: str = Field(default="", sa_column_kwargs={"server_default": ""})
    return result


class Meta(SQLModel, table=True):
    __tablename__ = "meta"
    key: str = Field(primary_key=True)
    value: str = Field(default="")


class Patient(SQLModel, table=True):
    __tablename__ = "patient"
    __table_args__ = (UniqueConstraint("patient_id", "issuer", name="uq_patient_key"),)
    id: int | None = Field(default=None, primary_key=True)
    patient_id: str = _s(64, index=True)
    issuer: str = _s(64)
    name: str = _s(324)
    name_norm: str = _s(324, index=True)
    name_g1_norm: str = _group()
    name_g2_norm: str = _group()
    name_g3_norm: str = _group()
    birth_date: dt.date | None = Field(default=None, index=True)
    birth_time: str | None = Field(default=None)
    sex: str = _s(16)
    other_ids: str = _s(256)
    comments: str = Field(default="", sa_column=Column(String, default=""))
    num_studies: int = 0
    num_series: int = 0
    num_instances: int = 0
    created_at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))


class Study(SQLModel, table=True):
    __tablename__ = "study"
    id: int | None = Field(default=None, primary_key=True)
    patient_pk: int = Field(foreign_key="patient.id", index=True)
    study_uid: str = Field(unique=True)
    study_date: dt.date | None = Field(default=None, index=True)
    study_time: str | None = Field(default=None)
    accession_number: str = _s(64, index=True)
    study_id: str = _s(16, index=True)
    description: str = _s(64)
    description_norm: str = _s(64, index=True)
    referring_physician: str = _s(324)
    referring_physician_norm: str = _s(324, index=True)
    reading_physicians: str = _s(1024)
    institution: str = _s(64)
    patient_age: str = _s(8)
    patient_size: float | None = None
    patient_weight: float | None = None
    timezone_offset: str = _s(16)
    modalities: str = _s(128, index=True)
    sop_classes: str = Field(default="", sa_column=Column(String, default=""))
    num_series: int = 0
    num_instances: int = 0
    size_bytes: int = 0
    created_at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))
    updated_at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC), index=True)


class Series(SQLModel, table=True):
    __tablename__ = "series"
    id: int | None = Field(default=None, primary_key=True)
    study_pk: int = Field(foreign_key="study.id", index=True)
    series_uid: str = Field(unique=True)
    modality: str = _s(16, index=True)
    series_number: int | None = Field(default=None)
    description: str = _s(64)
    series_date: dt.date | None = Field(default=None, index=True)
    series_time: str | None = Field(default=None)
    body_part: str = _s(16)
    laterality: str = _s(16)
    protocol_name: str = _s(64)
    station_name: str = _s(16)
    manufacturer: str = _s(64)
    model_name: str = _s(64)
    performing_physician: str = _s(324)
    pps_start_date: dt.date | None = Field(default=None, index=True)
    pps_start_time: str | None = Field(default=None)
    num_instances: int = 0
    created_at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))


class Instance(SQLModel, table=True):
    __tablename__ = "instance"
    id: int | None = Field(default=None, primary_key=True)
    series_pk: int = Field(foreign_key="series.id", index=True)
    sop_uid: str = Field(unique=True)
    sop_class_uid: str = _s(64, index=True)
    instance_number: int | None = Field(default=None)
    content_date: dt.date | None = None
    content_time: str | None = Field(default=None)
    acquisition_datetime: str = _s(32)
    image_type: str = _s(128)
    rows: int | None = None
    columns: int | None = None
    bits_allocated: int | None = None
    number_of_frames: int | None = None
    photometric: str = _s(16)
    transfer_syntax: str = _s(64)
    file_path: str = Field(unique=True)
    file_size: int = 0
    calling_ae: str = _s(16, index=True)
    source: str = _s(16)
    charset: str = _s(128)
    charset_repaired: bool = False
    patient_conflict: bool = Field(default=False, index=True)
    received_at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC), index=True)


class Change(SQLModel, table=True):
    """Append-only change log; ``seq`` orders every change for later consumers."""

    __tablename__ = "change"
    seq: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True)
    level: str = Field()
    uid: str = Field()
    study_uid: str = Field(index=True)
    at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))


class CharsetRepairRow(SQLModel, table=True):
    """One text value of one instance that was decoded with another character set."""

    __tablename__ = "charset_repair"
    id: int | None = Field(default=None, primary_key=True)
    instance_pk: int = Field(foreign_key="instance.id", index=True)
    keyword: str = Field()
    declared: str = Field()
    used: str = Field()


Index("ix_instance_series_number", Instance.series_pk, Instance.instance_number)  # type: ignore[arg-type]
Index("ix_study_patient_date", Study.patient_pk, Study.study_date)  # type: ignore[arg-type]

# Component groups of names: on PostgreSQL the pattern operator class lets LIKE 'PREFIX%' use the
# index (the default one serves no LIKE outside the C locale); it serves equality too.
for _name in PATIENT_NAME.groups:
    Index(
        f"ix_patient_{_name}",
        Patient.__table__.c[_name],  # type: ignore[attr-defined]
        postgresql_ops={_name: "text_pattern_ops"},
    )
