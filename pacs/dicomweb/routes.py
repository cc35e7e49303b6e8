"""The DICOMweb routes under /dicomweb: QIDO-RS searches, WADO-RS retrieval, STOW-RS.
Each handler parses, delegates to a module of this package, and answers."""

from __future__ import annotations

import json
from typing import Any

import trio
from quart import Blueprint, Response, request
from quart_trio import QuartTrio

from pacs.dicomweb import qido, rendered, stow, wado
from pacs.dicomweb.negotiation import require_json
from pacs.dicomweb.retrieve import check_uids
from pacs.http.auth import principal
from pacs.http.multipart import BadMultipart, boundary_of, part_type_of
from pacs.http.problems import HttpProblem, warning
from pacs.http.services import WebServices
from pacs.http.urls import root_url
from pacs.index.keys import Level
from pacs.index.query import rows

PREFIX = "/dicomweb"
JSON_TYPES = ("application/dicom+json", "application/json")


def base_url() -> str:
    return root_url() + PREFIX


def json_response(
    body: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    response = Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type="application/dicom+json",
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def register(app: QuartTrio, web: WebServices) -> None:
    bp = Blueprint("dicomweb", __name__, url_prefix=PREFIX)
    _qido(bp, web)
    wado.register(bp, web)
    rendered.register(bp, web)
    _stow(bp, web)
    app.register_blueprint(bp)


def _qido(bp: Blueprint, web: WebServices) -> None:
    http = web.settings.http

    async def search(level: Level, fixed: dict[str, str]) -> Response:
        require_json()
        parsed = qido.parse(
            level, request.args, fixed, limit=http.qido_limit, cap=http.qido_max_limit
        )
        query = qido.query_of(parsed, case_insensitive=web.settings.dicom.case_insensitive_names)

        def fetch() -> list[dict[str, Any]]:
            return list(rows(web.engine, query, limit=parsed.limit + 1, offset=parsed.offset))

        found = await trio.to_thread.run_sync(fetch, limiter=web.limits.db_read)
        base = base_url()
        body = [qido.to_json(parsed, row, base) for row in found[: parsed.limit]]
        warnings = []
        if parsed.ignored:
            names = ", ".join(dict.fromkeys(parsed.ignored))
            warnings.append(warning(f"The following attributes were not matched: {names}"))
        if len(found) > parsed.limit:
            warnings.append(warning("There are more results: page on with offset"))
        return json_response(body, headers={"Warning": ", ".join(warnings)} if warnings else None)

    @bp.get("/studies")
    async def studies() -> Response:
        return await search(Level.STUDY, {})

    @bp.get("/series")
    async def all_series() -> Response:
        return await search(Level.SERIES, {})

    @bp.get("/instances")
    async def all_instances() -> Response:
        return await search(Level.IMAGE, {})

    @bp.get("/studies/<study>/series")
    async def study_series(study: str) -> Response:
        return await search(Level.SERIES, {"StudyInstanceUID": study})

    @bp.get("/studies/<study>/instances")
    async def study_instances(study: str) -> Response:
        return await search(Level.IMAGE, {"StudyInstanceUID": study})

    @bp.get("/studies/<study>/series/<series>/instances")
    async def series_instances(study: str, series: str) -> Response:
        return await search(Level.IMAGE, {"StudyInstanceUID": study, "SeriesInstanceUID": series})


# Refused before its body was read: the connection cannot carry another request.
UNREAD = {"Connection": "close"}


def _stow(bp: Blueprint, web: WebServices) -> None:
    limit = web.settings.http.stow_max_bytes

    async def store(study: str | None = None) -> Response:
        check_uids(study=study)
        content_type = request.headers.get("Content-Type", "")
        try:
            if not content_type.lower().startswith("multipart/related"):
                raise BadMultipart("expected multipart/related")
            part_type = part_type_of(content_type)
            boundary = boundary_of(content_type)
        except BadMultipart as exc:
            raise HttpProblem(
                415,
                f'STOW-RS takes multipart/related; type="application/dicom" ({exc})',
                headers=UNREAD,
            ) from None
        if part_type not in (None, "application/dicom"):
            raise HttpProblem(
                415, f"parts of type {part_type} are not taken: send application/dicom"
            )
        if (request.content_length or 0) > limit:
            raise HttpProblem(413, f"the request body exceeds {limit} bytes", headers=UNREAD)
        who = principal()
        if not who.may_write:
            raise HttpProblem(403, f"{who.username!r} ({who.role}) may not store", headers=UNREAD)
        receiver = stow.Receiver(web=web, study=study, username=who.username)
        await stow.receive(web, request.body, boundary, receiver)
        base = base_url()
        study_url = f"{base}/studies/{study}" if study else None
        status, body = stow.answer(receiver.outcomes, study_url, base)
        reasons = [
            f"{o.sop_instance or 'part'}: {o.reason}" for o in receiver.outcomes if o.failure
        ]
        headers = {"Warning": warning("; ".join(reasons))} if reasons else None
        return json_response(body, status=status, headers=headers)

    bp.add_url_rule("/studies", "stow", store, methods=["POST"])
    bp.add_url_rule("/studies/<study>", "stow_study", store, methods=["POST"])
