"""Index writes for one batch of instances, inside one transaction. Thread-only.

Rows are found or created level by level; counts are accumulated per batch and applied once per
touched row at the end, so a batch of N instances of one series costs one count update."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from typing import Any

import attrs
from sqlalchemy import Connection, Table, func, insert, select, update

from pacs.index import schema
from pacs.messages import (
    IndexRequest,
    IndexResult,
    PatientSummary,
    SeriesSummary,
    StoreOutcome,
    StudySummary,
)
from pacs.model.normalize import normalize_pn

log = logging.getLogger("pacs.index")

PATIENT: Table = schema.Patient.__table__  # type: ignore[attr-defined]
STUDY: Table = schema.Study.__table__  # type: ignore[attr-defined]
SERIES: Table = schema.Series.__table__  # type: ignore[attr-defined]
INSTANCE: Table = schema.Instance.__table__  # type: ignore[attr-defined]
CHANGE: Table = schema.Change.__table__  # type: ignore[attr-defined]
REPAIR: Table = schema.CharsetRepairRow.__table__  # type: ignore[attr-defined]

DEMOGRAPHICS = ("name", "birth_date", "sex")


@attrs.define
class Batch:
    """What one transaction touched, so counts are applied once at the end."""

    conn: Connection
    now: dt.datetime
    instances: Counter[tuple[str, int]] = attrs.field(factory=Counter)
    sizes: Counter[int] = attrs.field(factory=Counter)
    new_series_in: Counter[int] = attrs.field(factory=Counter)
    new_studies_of: Counter[int] = attrs.field(factory=Counter)
    last_seq: int = 0

    def change(self, kind: str, level: str, uid: str, study_uid: str) -> None:
        result = self.conn.execute(
            insert(CHANGE).values(kind=kind, level=level, uid=uid, study_uid=study_uid, at=self.now)
        )
        self.last_seq = int(result.inserted_primary_key[0])  # type: ignore[index]


def _patient_values(p: PatientSummary) -> dict[str, Any]:
    values = attrs.asdict(p)
    values["name_norm"] = normalize_pn(p.name)
    return values


def _patient(batch: Batch, p: PatientSummary) -> tuple[int, bool]:
    """Find or create the patient (PatientID, Issuer). Returns (pk, demographics conflict)."""
    row = (
        batch.conn.execute(
            select(PATIENT).where(
                PATIENT.c.patient_id == p.patient_id, PATIENT.c.issuer == p.issuer
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        pk = batch.conn.execute(
            insert(PATIENT).values(**_patient_values(p), created_at=batch.now)
        ).inserted_primary_key[0]  # type: ignore[index]
        batch.change("patient_created", "PATIENT", p.patient_id, "")
        return int(pk), False
    incoming = attrs.asdict(p)
    fill = {k: incoming[k] for k in DEMOGRAPHICS if incoming[k] and not row[k]}
    conflict = any(incoming[k] and row[k] and incoming[k] != row[k] for k in DEMOGRAPHICS)
    if fill:
        if "name" in fill:
            fill["name_norm"] = normalize_pn(fill["name"])
        batch.conn.execute(update(PATIENT).where(PATIENT.c.id == row["id"]).values(**fill))
    return int(row["id"]), conflict


def _study(batch: Batch, s: StudySummary, patient_pk: int) -> tuple[int, bool]:
    """Find or create the study. Returns (pk, belongs to another patient)."""
    row = batch.conn.execute(
        select(STUDY.c.id, STUDY.c.patient_pk).where(STUDY.c.study_uid == s.study_uid)
    ).first()
    if row is not None:
        return int(row.id), int(row.patient_pk) != patient_pk
    values = attrs.asdict(s)
    values.update(
        description_norm=normalize_pn(s.description),
        referring_physician_norm=normalize_pn(s.referring_physician),
    )
    pk = batch.conn.execute(
        insert(STUDY).values(
            **values,
            patient_pk=patient_pk,
            created_at=batch.now,
            updated_at=batch.now,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    batch.new_studies_of[patient_pk] += 1
    batch.change("study_created", "STUDY", s.study_uid, s.study_uid)
    return int(pk), False


def _series(batch: Batch, s: SeriesSummary, study_pk: int, study_uid: str) -> int:
    row = batch.conn.execute(select(SERIES.c.id).where(SERIES.c.series_uid == s.series_uid)).first()
    if row is not None:
        return int(row.id)
    pk = batch.conn.execute(
        insert(SERIES).values(
            **attrs.asdict(s),
            study_pk=study_pk,
            created_at=batch.now,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    batch.new_series_in[study_pk] += 1
    batch.change("series_created", "SERIES", s.series_uid, study_uid)
    return int(pk)


def _instance_values(req: IndexRequest) -> dict[str, Any]:
    values = attrs.asdict(req.summary.instance)
    values.update(
        transfer_syntax=req.transfer_syntax,
        file_path=req.path,
        file_size=req.size,
        calling_ae=req.calling_ae,
        source=str(req.source),
        charset=req.summary.charset,
        charset_repaired=bool(req.summary.repairs),
        received_at=req.received_at,
    )
    return values


def _replace(batch: Batch, req: IndexRequest, existing: Any) -> IndexResult:
    values = _instance_values(req)
    batch.conn.execute(update(INSTANCE).where(INSTANCE.c.id == existing.id).values(**values))
    batch.change(
        "instance_replaced", "IMAGE", req.summary.instance.sop_uid, req.summary.study.study_uid
    )
    old = existing.file_path if existing.file_path != req.path else None
    return IndexResult(
        outcome=StoreOutcome.REPLACED, path=req.path, superseded_path=old, seq=batch.last_seq
    )


def store(batch: Batch, req: IndexRequest) -> IndexResult:
    """Index one instance (or settle it as a duplicate) within the batch's transaction."""
    summary = req.summary
    uid = summary.instance.sop_uid
    existing = batch.conn.execute(
        select(INSTANCE.c.id, INSTANCE.c.file_path).where(INSTANCE.c.sop_uid == uid)
    ).first()
    if existing is not None:
        if req.replace:
            return _replace(batch, req, existing)
        other = req.path if req.path != existing.file_path else None
        return IndexResult(
            outcome=StoreOutcome.DUPLICATE, path=existing.file_path, superseded_path=other
        )
    patient_pk, conflict = _patient(batch, summary.patient)
    study_pk, moved = _study(batch, summary.study, patient_pk)
    series_pk = _series(batch, summary.series, study_pk, summary.study.study_uid)
    if conflict or moved:
        log.warning(
            "instance %s: patient %r demographics differ from the stored patient; kept and flagged",
            uid,
            summary.patient.patient_id,
        )
    pk = batch.conn.execute(
        insert(INSTANCE).values(
            **_instance_values(req),
            series_pk=series_pk,
            patient_conflict=conflict or moved,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    for repair in summary.repairs:
        batch.conn.execute(
            insert(REPAIR).values(
                instance_pk=pk, keyword=repair.keyword, declared=repair.declared, used=repair.used
            )
        )
    batch.instances[("series", series_pk)] += 1
    batch.instances[("study", study_pk)] += 1
    batch.sizes[study_pk] += req.size
    batch.change("instance_stored", "IMAGE", uid, summary.study.study_uid)
    return IndexResult(
        outcome=StoreOutcome.STORED,
        path=req.path,
        patient_conflict=conflict or moved,
        seq=batch.last_seq,
    )


def apply_counts(batch: Batch) -> None:
    """Bring the materialised counts up to date for everything the batch touched."""
    conn = batch.conn
    for (level, pk), n in batch.instances.items():
        table = SERIES if level == "series" else STUDY
        conn.execute(
            update(table).where(table.c.id == pk).values(num_instances=table.c.num_instances + n)
        )
    for study_pk, size in batch.sizes.items():
        conn.execute(
            update(STUDY)
            .where(STUDY.c.id == study_pk)
            .values(
                size_bytes=STUDY.c.size_bytes + size,
                updated_at=batch.now,
                num_series=STUDY.c.num_series + batch.new_series_in.get(study_pk, 0),
            )
        )
    for study_pk in batch.new_series_in:
        modalities = (
            conn.execute(select(SERIES.c.modality).distinct().where(SERIES.c.study_pk == study_pk))
            .scalars()
            .all()
        )
        joined = "\\".join(sorted(m for m in modalities if m))
        conn.execute(update(STUDY).where(STUDY.c.id == study_pk).values(modalities=joined))
    _patient_counts(batch)


def _patient_counts(batch: Batch) -> None:
    """Patient counts are derived from their studies' materialised counts."""
    touched = {pk for (level, pk) in batch.instances if level == "study"}
    if not touched:
        return
    conn = batch.conn
    patients = (
        conn.execute(select(STUDY.c.patient_pk).distinct().where(STUDY.c.id.in_(touched)))
        .scalars()
        .all()
    )
    for patient_pk in patients:
        totals = conn.execute(
            select(
                func.count(),
                func.coalesce(func.sum(STUDY.c.num_series), 0),
                func.coalesce(func.sum(STUDY.c.num_instances), 0),
            ).where(STUDY.c.patient_pk == patient_pk)
        ).one()
        conn.execute(
            update(PATIENT)
            .where(PATIENT.c.id == patient_pk)
            .values(num_studies=totals[0], num_series=totals[1], num_instances=totals[2])
        )
