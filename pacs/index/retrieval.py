"""Which stored instances a C-MOVE or C-GET asks for. Thread-only: every function blocks on the
database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
from sqlalchemy import Engine, Select, func, select

from pacs.index.statements import CHANGE, INSTANCE, PATIENT, SERIES, STUDY


@attrs.frozen(kw_only=True)
class RetrieveKeys:
    """The unique keys of a retrieve identifier. Each is a list of values (a backslash-separated
    UID list is several); an empty tuple does not restrict."""

    patient_ids: tuple[str, ...] = ()
    study_uids: tuple[str, ...] = ()
    series_uids: tuple[str, ...] = ()
    sop_uids: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.patient_ids or self.study_uids or self.series_uids or self.sop_uids)


@attrs.frozen(kw_only=True)
class StoredInstance:
    """One instance to send: what it is, how it is encoded on disk, and where its file lies."""

    sop_class_uid: str
    sop_uid: str
    transfer_syntax: str
    path: Path


def _filters(keys: RetrieveKeys) -> list[Any]:
    columns = (
        (PATIENT.c.patient_id, keys.patient_ids),
        (STUDY.c.study_uid, keys.study_uids),
        (SERIES.c.series_uid, keys.series_uids),
        (INSTANCE.c.sop_uid, keys.sop_uids),
    )
    return [column.in_(values) for column, values in columns if values]


READING_ORDER = (
    STUDY.c.study_date.nulls_last(),
    STUDY.c.study_uid,
    SERIES.c.series_number.nulls_last(),
    SERIES.c.series_uid,
    INSTANCE.c.instance_number.nulls_last(),
    INSTANCE.c.sop_uid,
)


def _in_reading_order(stmt: Select[Any]) -> Select[Any]:
    """``stmt`` over instances joined to their series, study and patient, in reading order."""
    joined = (
        INSTANCE.join(SERIES, INSTANCE.c.series_pk == SERIES.c.id)
        .join(STUDY, SERIES.c.study_pk == STUDY.c.id)
        .join(PATIENT, STUDY.c.patient_pk == PATIENT.c.id)
    )
    return stmt.select_from(joined).order_by(*READING_ORDER)


def resolve(engine: Engine, storage_root: Path, keys: RetrieveKeys) -> list[StoredInstance]:
    """Every instance matching ``keys`` (all of them together), ordered by study, series number
    and instance number, so a retrieve sends a study in reading order and the same way each
    time. Keys that restrict nothing match nothing: a retrieve never means "everything"."""
    if keys.empty:
        return []
    return list(_instances(engine, storage_root, _filters(keys)))


@attrs.frozen(kw_only=True)
class Located(StoredInstance):
    """A stored instance with the UIDs above it (what a DICOMweb URL names)."""

    study_uid: str
    series_uid: str
    frames: int | None


COLUMNS = (
    STUDY.c.study_uid,
    SERIES.c.series_uid,
    INSTANCE.c.sop_uid,
    INSTANCE.c.sop_class_uid,
    INSTANCE.c.transfer_syntax,
    INSTANCE.c.file_path,
    INSTANCE.c.number_of_frames,
)


def _instances(engine: Engine, storage_root: Path, where: list[Any]) -> list[Located]:
    stmt = _in_reading_order(select(*COLUMNS)).where(*where)
    with engine.connect() as conn:
        return [
            Located(
                study_uid=str(row.study_uid),
                series_uid=str(row.series_uid),
                sop_uid=str(row.sop_uid),
                sop_class_uid=str(row.sop_class_uid),
                transfer_syntax=str(row.transfer_syntax),
                path=storage_root / str(row.file_path),
                frames=row.number_of_frames,
            )
            for row in conn.execute(stmt)
        ]


def locate(
    engine: Engine,
    storage_root: Path,
    study: str | None,
    series: str | None = None,
    sop: str | None = None,
) -> list[Located]:
    """The instances of a study, series or single instance, in reading order. Each UID given
    restricts; none given finds nothing."""
    keys = ((STUDY.c.study_uid, study), (SERIES.c.series_uid, series), (INSTANCE.c.sop_uid, sop))
    where = [column == value for column, value in keys if value is not None]
    return _instances(engine, storage_root, where) if where else []


def study_version(engine: Engine, study: str) -> int:
    """The change log's last sequence number for ``study``: it moves whenever an instance of
    the study is added, replaced or removed (0: no change recorded)."""
    stmt = select(func.max(CHANGE.c.seq)).where(CHANGE.c.study_uid == study)
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar() or 0)
