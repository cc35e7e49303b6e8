"""Studies in the REST API: search with paging and sorting, details with their series, delete at
study, series or instance level (audited; admins and operators only)."""

from __future__ import annotations

import functools
from typing import Any

import trio
from quart import Blueprint, request
from quart_schema import validate_querystring, validate_response
from sqlalchemy import Engine, select

from pacs.api.models import Deleted, SeriesItem, StudyDetail, StudyItem, StudyPage, StudySearch
from pacs.auth import audit
from pacs.dicomweb.retrieve import check_uids
from pacs.http.auth import require_writer
from pacs.http.problems import HttpProblem
from pacs.http.services import WebServices
from pacs.index.keys import KEYS, Level
from pacs.index.query import count, dicom_value, plan, rows
from pacs.index.statements import PATIENT, SERIES, STUDY
from pacs.messages import Level as DeleteLevel

FILTERS = {
    "patient_id": "PatientID",
    "patient_name": "PatientName",
    "study_date": "StudyDate",
    "modality": "ModalitiesInStudy",
    "accession_number": "AccessionNumber",
}
RETURNS = (
    "PatientID", "PatientName", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
    "AccessionNumber", "StudyDescription", "ModalitiesInStudy", "NumberOfStudyRelatedSeries",
    "NumberOfStudyRelatedInstances",
)  # fmt: skip
ORDER = {
    "study_date": (STUDY.c.study_date, STUDY.c.study_time),
    "patient_name": (PATIENT.c.name_norm,),
    "received": (STUDY.c.id,),
}


def _order(sort: str) -> list[Any]:
    columns = ORDER[sort.lstrip("-")]
    if sort.startswith("-"):
        return [column.desc().nulls_last() for column in columns]
    return [column.asc().nulls_last() for column in columns]


def _text(row: dict[str, Any], keyword: str) -> str:
    value = dicom_value(KEYS[keyword], row.get(keyword))
    return "" if value is None else str(value)


def _item(row: dict[str, Any]) -> StudyItem:
    modalities = dicom_value(KEYS["ModalitiesInStudy"], row.get("ModalitiesInStudy")) or []
    return StudyItem(
        study_uid=str(row["StudyInstanceUID"]),
        patient_id=_text(row, "PatientID"),
        patient_name=_text(row, "PatientName"),
        patient_birth_date=_text(row, "PatientBirthDate") or None,
        patient_sex=_text(row, "PatientSex"),
        study_date=_text(row, "StudyDate") or None,
        study_time=_text(row, "StudyTime") or None,
        accession_number=_text(row, "AccessionNumber"),
        description=_text(row, "StudyDescription"),
        modalities=list(modalities) if isinstance(modalities, list) else [str(modalities)],
        series=int(row.get("NumberOfStudyRelatedSeries") or 0),
        instances=int(row.get("NumberOfStudyRelatedInstances") or 0),
    )


def search(engine: Engine, args: StudySearch) -> StudyPage:
    """Thread-only."""
    values: dict[str, object] = dict.fromkeys(RETURNS, "")
    for field, keyword in FILTERS.items():
        given = getattr(args, field)
        if given:
            values[keyword] = given
    query = plan(
        Level.STUDY, values, fuzzy=bool(args.patient_name and "*" not in args.patient_name)
    )
    found = list(rows(engine, query, limit=args.limit, offset=args.offset, order=_order(args.sort)))
    return StudyPage(
        total=count(engine, query),
        offset=args.offset,
        limit=args.limit,
        items=[_item(row) for row in found],
    )


def detail(engine: Engine, study: str) -> StudyDetail | None:
    """Thread-only."""
    values = {**dict.fromkeys(RETURNS, ""), "StudyInstanceUID": study}
    found = list(rows(engine, plan(Level.STUDY, values), limit=1))
    if not found:
        return None
    stmt = (
        select(SERIES)
        .join(STUDY, STUDY.c.id == SERIES.c.study_pk)
        .where(STUDY.c.study_uid == study)
        .order_by(SERIES.c.series_number.nulls_last(), SERIES.c.id)
    )
    with engine.connect() as conn:
        series = [
            SeriesItem(
                series_uid=r.series_uid,
                modality=r.modality,
                number=r.series_number,
                description=r.description,
                body_part=r.body_part,
                instances=r.num_instances,
            )
            for r in conn.execute(stmt)
        ]
    return StudyDetail(**_item(found[0]).model_dump(), series_list=series)


def blueprint(web: WebServices) -> Blueprint:
    bp = Blueprint("api_studies", __name__, url_prefix="/api")

    @bp.get("/studies")
    @validate_querystring(StudySearch)
    @validate_response(StudyPage)
    async def list_studies(query_args: StudySearch) -> StudyPage:
        """Search studies, a page at a time."""
        return await trio.to_thread.run_sync(
            search, web.engine, query_args, limiter=web.limits.db_read
        )

    @bp.get("/studies/<study>")
    @validate_response(StudyDetail)
    async def get_study(study: str) -> StudyDetail:
        """One study with its series."""
        check_uids(study=study)
        found = await trio.to_thread.run_sync(detail, web.engine, study, limiter=web.limits.db_read)
        if found is None:
            raise HttpProblem(404, "no such study in the archive")
        return found

    async def remove(level: DeleteLevel, uid: str) -> Deleted:
        who = require_writer()
        check_uids(**{level.value: uid})
        result = await web.deleter.delete(level, uid)
        note = functools.partial(
            audit.record, web.engine, who.username, f"delete_{level.value}", uid,
            detail=f"{len(result.paths)} instance(s) of study {result.study_uid}",
            address=request.remote_addr or "",
        )  # fmt: skip
        await trio.to_thread.run_sync(note)
        return Deleted(level=level.value, uid=uid, instances=len(result.paths))

    @bp.delete("/studies/<study>")
    @validate_response(Deleted)
    async def delete_study(study: str) -> Deleted:
        """Delete a study: its files and its index rows."""
        return await remove(DeleteLevel.STUDY, study)

    @bp.delete("/series/<series>")
    @validate_response(Deleted)
    async def delete_series(series: str) -> Deleted:
        """Delete a series."""
        return await remove(DeleteLevel.SERIES, series)

    @bp.delete("/instances/<sop>")
    @validate_response(Deleted)
    async def delete_instance(sop: str) -> Deleted:
        """Delete an instance."""
        return await remove(DeleteLevel.INSTANCE, sop)

    return bp
