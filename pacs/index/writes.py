"""Index writes for one batch of instances, inside one transaction. Thread-only.

The hot path is an instance of a series the index already knows: a `LevelCache` of committed
patient/study/series keys spares the lookups, instance and change rows are inserted with one
executemany each, and counts are accumulated per batch and applied once per touched row."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from typing import Any

import attrs
from sqlalchemy import Connection, Select, Table, delete, insert, select, update

from pacs.index.names import pn_search_values
from pacs.index.statements import (
    ADD_CHANGES,
    ADD_INSTANCES,
    ADD_REPAIRS,
    COUNT_PATIENT,
    COUNT_SERIES,
    COUNT_STUDY,
    EXISTING,
    FIND_SERIES,
    FIND_STUDY,
    INSTANCE,
    PATIENT,
    REPAIR,
    SERIES,
    STUDY,
    STUDY_MODALITIES,
)
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


DEMOGRAPHICS = ("name", "birth_date", "sex")
CACHE_LIMIT = 200_000

PatientKey = tuple[str, str]


@attrs.define
class LevelCache:
    """Keys of committed rows: patient → (pk, demographics), study → (pk, patient pk),
    series → (pk, study pk). Filled only after a commit; cleared after any failure."""

    patients: dict[PatientKey, tuple[int, tuple[Any, ...]]] = attrs.field(factory=dict)
    studies: dict[str, tuple[int, int]] = attrs.field(factory=dict)
    series: dict[str, tuple[int, int]] = attrs.field(factory=dict)

    def clear(self) -> None:
        self.patients.clear()
        self.studies.clear()
        self.series.clear()

    def absorb(self, other: LevelCache) -> None:
        if len(self.series) > CACHE_LIMIT:
            self.clear()
        self.patients.update(other.patients)
        self.studies.update(other.studies)
        self.series.update(other.series)


@attrs.define
class Batch:
    """What one transaction touched; counts are applied once at the end (`finish`)."""

    conn: Connection
    now: dt.datetime
    cache: LevelCache
    fresh: LevelCache = attrs.field(factory=LevelCache)
    instances: list[dict[str, Any]] = attrs.field(factory=list)
    changes: list[dict[str, Any]] = attrs.field(factory=list)
    series_n: Counter[int] = attrs.field(factory=Counter)
    study_n: Counter[int] = attrs.field(factory=Counter)
    study_bytes: Counter[int] = attrs.field(factory=Counter)
    study_new_series: Counter[int] = attrs.field(factory=Counter)
    patient_n: Counter[tuple[int, str]] = attrs.field(factory=Counter)
    emptied: set[int] = attrs.field(factory=set)  # series that lost an instance
    invalidate: bool = False  # rows were deleted: the level cache must be dropped

    def change(self, kind: str, level: str, uid: str, study_uid: str) -> None:
        self.changes.append(
            {"kind": kind, "level": level, "uid": uid, "study_uid": study_uid, "at": self.now}
        )

    def lookup_patient(self, key: PatientKey) -> tuple[int, tuple[Any, ...]] | None:
        return self.cache.patients.get(key) or self.fresh.patients.get(key)


def _demographics(p: PatientSummary) -> tuple[Any, ...]:
    return (p.name, p.birth_date, p.sex)


def _patient(batch: Batch, p: PatientSummary) -> tuple[int, bool]:
    """Find or create the patient (PatientID, Issuer). Returns (pk, demographics conflict)."""
    key = (p.patient_id, p.issuer)
    cached = batch.lookup_patient(key)
    if cached is not None and cached[1] == _demographics(p):
        return cached[0], False
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
        values = {**attrs.asdict(p), **pn_search_values(p.name), "created_at": batch.now}
        pk = _created(batch, PATIENT, values)
        batch.change("patient_created", "PATIENT", p.patient_id, "")
        batch.fresh.patients[key] = (pk, _demographics(p))
        return pk, False
    incoming = attrs.asdict(p)
    fill = {k: incoming[k] for k in DEMOGRAPHICS if incoming[k] and not row[k]}
    conflict = any(incoming[k] and row[k] and incoming[k] != row[k] for k in DEMOGRAPHICS)
    if fill:
        if "name" in fill:
            fill.update(pn_search_values(fill["name"]))
        batch.conn.execute(update(PATIENT).where(PATIENT.c.id == row["id"]).values(**fill))
    stored = {**dict(row), **fill}
    batch.fresh.patients[key] = (int(row["id"]), tuple(stored[k] for k in DEMOGRAPHICS))
    return int(row["id"]), conflict


def _known(
    batch: Batch, cached: dict[str, tuple[int, int]], find: Select[Any], uid: str
) -> tuple[int, int] | None:
    """(pk, parent pk) of a study or series, from the cache or the table."""
    known = cached.get(uid)
    if known is None:
        row = batch.conn.execute(find, {"uid": uid}).first()
        known = None if row is None else (int(row[0]), int(row[1]))
    return known


def _created(batch: Batch, table: Table, values: dict[str, Any]) -> int:
    return int(batch.conn.execute(insert(table).values(**values)).inserted_primary_key[0])  # type: ignore[index]


def _study(batch: Batch, s: StudySummary, patient_pk: int) -> tuple[int, int]:
    """Find or create the study. Returns (pk, pk of the patient it belongs to)."""
    uid = s.study_uid
    known = batch.fresh.studies.get(uid) or _known(batch, batch.cache.studies, FIND_STUDY, uid)
    if known is None:
        known = (
            _created(
                batch,
                STUDY,
                {
                    **attrs.asdict(s),
                    "description_norm": normalize_pn(s.description),
                    "referring_physician_norm": normalize_pn(s.referring_physician),
                    "patient_pk": patient_pk,
                    "created_at": batch.now,
                    "updated_at": batch.now,
                },
            ),
            patient_pk,
        )
        batch.patient_n[(patient_pk, "num_studies")] += 1
        batch.change("study_created", "STUDY", uid, uid)
    batch.fresh.studies[uid] = known
    return known


def _series(
    batch: Batch, s: SeriesSummary, study_pk: int, patient_pk: int, study_uid: str
) -> tuple[int, int]:
    """Find or create the series. Returns (pk, pk of the study it belongs to)."""
    uid = s.series_uid
    known = batch.fresh.series.get(uid) or _known(batch, batch.cache.series, FIND_SERIES, uid)
    if known is None:
        values = {**attrs.asdict(s), "study_pk": study_pk, "created_at": batch.now}
        known = _created(batch, SERIES, values), study_pk
        batch.study_new_series[study_pk] += 1
        batch.patient_n[(patient_pk, "num_series")] += 1
        batch.change("series_created", "SERIES", uid, study_uid)
    batch.fresh.series[uid] = known
    return known


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


def existing_instances(conn: Connection, requests: list[IndexRequest]) -> dict[str, Any]:
    """One query for the whole batch: which SOP instances are already indexed."""
    uids = [req.summary.instance.sop_uid for req in requests]
    rows = conn.execute(EXISTING, {"uids": uids})
    return {row.sop_uid: row for row in rows}


def _detach(batch: Batch, instance_pk: int) -> None:
    """Remove an instance row; its series, study and patient counts follow at `finish`."""
    old = batch.conn.execute(
        select(INSTANCE.c.series_pk, INSTANCE.c.file_size, SERIES.c.study_pk, STUDY.c.patient_pk)
        .join(SERIES, SERIES.c.id == INSTANCE.c.series_pk)
        .join(STUDY, STUDY.c.id == SERIES.c.study_pk)
        .where(INSTANCE.c.id == instance_pk)
    ).one()
    batch.conn.execute(delete(REPAIR).where(REPAIR.c.instance_pk == instance_pk))
    batch.conn.execute(delete(INSTANCE).where(INSTANCE.c.id == instance_pk))
    batch.series_n[old.series_pk] -= 1
    batch.study_n[old.study_pk] -= 1
    batch.study_bytes[old.study_pk] -= old.file_size
    batch.patient_n[(old.patient_pk, "num_instances")] -= 1
    batch.emptied.add(old.series_pk)


def store(batch: Batch, req: IndexRequest, existing: Any | None) -> IndexResult:
    """Index one instance (or settle it as a duplicate) within the batch's transaction.
    ``existing`` is the already-indexed row for its SOP Instance UID, if any. A replacement
    takes the old row out and files the new one wherever its own UIDs say."""
    if existing is None:
        return _insert(batch, req, "instance_stored")
    other = req.path if req.path != existing.file_path else None
    # a duplicate, or the same SOP twice in one batch (the first one stands)
    if not req.replace or existing.id is None:
        return IndexResult(
            outcome=StoreOutcome.DUPLICATE, path=existing.file_path, superseded_path=other
        )
    _detach(batch, existing.id)
    result = _insert(batch, req, "instance_replaced")
    old = existing.file_path if existing.file_path != req.path else None
    return attrs.evolve(result, outcome=StoreOutcome.REPLACED, superseded_path=old)


def _insert(batch: Batch, req: IndexRequest, kind: str) -> IndexResult:
    summary = req.summary
    uid = summary.instance.sop_uid
    patient_pk, conflict = _patient(batch, summary.patient)
    study_pk, owner_pk = _study(batch, summary.study, patient_pk)
    series_pk, series_study_pk = _series(
        batch, summary.series, study_pk, owner_pk, summary.study.study_uid
    )
    # the instance joins the rows that already exist; a mismatch is kept and flagged
    flagged = conflict or owner_pk != patient_pk or series_study_pk != study_pk
    study_pk = series_study_pk
    if flagged:
        log.warning(
            "instance %s: patient %r differs from the patient already stored for "
            "this study or ID; kept and flagged",
            uid,
            summary.patient.patient_id,
        )
    values = {**_instance_values(req), "series_pk": series_pk, "patient_conflict": flagged}
    if summary.repairs:
        pk = batch.conn.execute(insert(INSTANCE).values(**values)).inserted_primary_key[0]  # type: ignore[index]
        batch.conn.execute(
            ADD_REPAIRS,
            [
                {"instance_pk": pk, "keyword": r.keyword, "declared": r.declared, "used": r.used}
                for r in summary.repairs
            ],
        )
    else:
        batch.instances.append(values)
    batch.series_n[series_pk] += 1
    batch.study_n[study_pk] += 1
    batch.study_bytes[study_pk] += req.size
    batch.patient_n[(owner_pk, "num_instances")] += 1
    batch.change(kind, "IMAGE", uid, summary.study.study_uid)
    return IndexResult(outcome=StoreOutcome.STORED, path=req.path, patient_conflict=flagged)


def finish(batch: Batch) -> None:
    """Write the batched rows and bring the materialised counts up to date; levels left
    without instances (after a replacement moved one away) are removed."""
    conn = batch.conn
    if batch.instances:
        conn.execute(ADD_INSTANCES, batch.instances)
    if batch.changes:
        conn.execute(ADD_CHANGES, batch.changes)
    for pk, n in batch.series_n.items():
        conn.execute(COUNT_SERIES, {"pk_": pk, "d_instances": n})
    emptied_studies = _prune_series(batch)
    for pk in batch.study_n.keys() | batch.study_new_series.keys():
        conn.execute(
            COUNT_STUDY,
            {
                "pk_": pk,
                "d_instances": batch.study_n[pk],
                "d_series": batch.study_new_series[pk],
                "d_bytes": batch.study_bytes[pk],
                "now": batch.now,
            },
        )
    for pk in batch.study_new_series:
        modalities = conn.execute(STUDY_MODALITIES, {"pk_": pk}).scalars()
        joined = "\\".join(sorted(m for m in modalities if m))
        conn.execute(update(STUDY).where(STUDY.c.id == pk).values(modalities=joined))
    _prune_studies(batch, emptied_studies)
    for pk in {pk for pk, _ in batch.patient_n}:
        conn.execute(
            COUNT_PATIENT,
            {
                "pk_": pk,
                "d_studies": batch.patient_n[(pk, "num_studies")],
                "d_series": batch.patient_n[(pk, "num_series")],
                "d_instances": batch.patient_n[(pk, "num_instances")],
            },
        )


def _prune_series(batch: Batch) -> set[int]:
    """Delete series a replacement left empty; returns the studies that lost one."""
    if not batch.emptied:
        return set()
    rows = batch.conn.execute(
        select(SERIES.c.id, SERIES.c.study_pk, STUDY.c.patient_pk)
        .join(STUDY, STUDY.c.id == SERIES.c.study_pk)
        .where(SERIES.c.id.in_(batch.emptied), SERIES.c.num_instances <= 0)
    ).all()
    for row in rows:
        batch.conn.execute(delete(SERIES).where(SERIES.c.id == row.id))
        batch.study_new_series[row.study_pk] -= 1
        batch.patient_n[(row.patient_pk, "num_series")] -= 1
        batch.invalidate = True
    return {row.study_pk for row in rows}


def _prune_studies(batch: Batch, studies: set[int]) -> None:
    if not studies:
        return
    rows = batch.conn.execute(
        select(STUDY.c.id, STUDY.c.patient_pk).where(
            STUDY.c.id.in_(studies), STUDY.c.num_instances <= 0
        )
    ).all()
    for row in rows:
        batch.conn.execute(delete(STUDY).where(STUDY.c.id == row.id))
        batch.patient_n[(row.patient_pk, "num_studies")] -= 1


DELETE_KEYS = {
    "study": STUDY.c.study_uid,
    "series": SERIES.c.series_uid,
    "instance": INSTANCE.c.sop_uid,
}


def delete_instances(batch: Batch, level: str, uid: str) -> tuple[list[str], str]:
    """Remove every instance of the study, series or instance ``uid`` (counts and empty levels
    follow at `finish`); returns their file paths and their study's UID."""
    rows = batch.conn.execute(
        select(INSTANCE.c.id, INSTANCE.c.sop_uid, INSTANCE.c.file_path, STUDY.c.study_uid)
        .join(SERIES, SERIES.c.id == INSTANCE.c.series_pk)
        .join(STUDY, STUDY.c.id == SERIES.c.study_pk)
        .where(DELETE_KEYS[level] == uid)
    ).all()
    for row in rows:
        _detach(batch, row.id)
        batch.change("instance_deleted", "IMAGE", row.sop_uid, row.study_uid)
    if rows:
        batch.invalidate = True
    return [str(row.file_path) for row in rows], str(rows[0].study_uid) if rows else ""
