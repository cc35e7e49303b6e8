"""WADO-URI (PS3.18 9): ``GET /wado?requestType=WADO&studyUID=..&seriesUID=..&objectUID=..``.

``contentType`` image/jpeg (default), image/png or application/dicom; for DICOM also
``transferSyntax`` (absent: as stored) and ``anonymize=yes``; for images ``rows``, ``columns``,
``windowCenter``/``windowWidth``, ``frameNumber`` and ``imageQuality``. A missing or malformed
parameter is a 400 naming it; an unknown object a 404."""

from __future__ import annotations

from quart import Blueprint, Response, request

from pacs.dicomweb.rendered import render
from pacs.dicomweb.retrieve import file_chunks, find, transcoded
from pacs.http.problems import HttpProblem
from pacs.http.services import WebServices
from pacs.imaging import syntaxes
from pacs.imaging.render import wado_uri_options
from pacs.index.retrieval import Located
from pacs.messages import AnonymizeRequest
from pacs.model.uids import is_valid_uid
from pacs.runtime import rpc

DICOM = "application/dicom"
IMAGES = ("image/jpeg", "image/png")
UID_PARAMS = ("studyUID", "seriesUID", "objectUID")


def _uid(name: str) -> str:
    value = request.args.get(name, "").strip()
    if not value:
        raise HttpProblem(400, f"{name} is required")
    if not is_valid_uid(value):
        raise HttpProblem(400, f"{name} {value!r} is not a valid UID")
    return value


def _content_type() -> str:
    """The first type of ``contentType`` (a comma-separated list) that this server makes."""
    asked = request.args.get("contentType") or IMAGES[0]
    for option in asked.split(","):
        media = option.split(";")[0].strip().lower()
        if media in (DICOM, *IMAGES):
            return media
    raise HttpProblem(
        400, f"contentType {asked!r}: expected image/jpeg, image/png or application/dicom"
    )


def _yes(name: str) -> bool:
    value = request.args.get(name, "no").strip().lower()
    if value not in ("yes", "no", "true", "false"):
        raise HttpProblem(400, f"{name} {value!r}: expected yes or no")
    return value in ("yes", "true")


async def _dicom(web: WebServices, item: Located) -> Response:
    syntax = request.args.get("transferSyntax") or None
    if syntax is not None and syntaxes.lookup(syntax) is None:
        raise HttpProblem(
            400, f"transferSyntax {syntax!r} is not a transfer syntax this server writes"
        )
    headers = {"Content-Disposition": f'attachment; filename="{item.sop_uid}.dcm"'}
    if _yes("anonymize"):
        anonymize = AnonymizeRequest(
            path=item.path,
            secret=web.anonymize_secret,
            transfer_syntax=syntax,
            quality=web.settings.imaging.quality,
        )
        timeout = web.settings.imaging.timeout
        data = await rpc.call(web.imaging, anonymize, timeout=timeout, what="imaging")
        return Response(data, content_type=DICOM, headers=headers)
    if syntax is not None and syntax != item.transfer_syntax:
        data = await transcoded(web, item, syntax)
        return Response(data, content_type=DICOM, headers=headers)
    response = Response(
        file_chunks(item.path, web.limits.disk), content_type=DICOM, headers=headers
    )
    response.timeout = None
    return response


def blueprint(web: WebServices) -> Blueprint:
    bp = Blueprint("wado_uri", __name__)

    @bp.get("/wado")
    async def wado() -> Response:
        request_type = request.args.get("requestType")
        if request_type != "WADO":
            raise HttpProblem(400, f"requestType must be WADO, got {request_type!r}")
        study, series, sop = (_uid(name) for name in UID_PARAMS)
        media = _content_type()
        item = (await find(web, study, series, sop))[0]
        if media == DICOM:
            return await _dicom(web, item)
        options = wado_uri_options(request.args)
        if options.media_type != media:
            options = wado_uri_options({**request.args, "contentType": media})
        return Response(await render(web, item, options), content_type=media)

    return bp
