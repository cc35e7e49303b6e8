"""Launching desktop viewers: ``GET /api/studies/{study}/weasis`` gives a ``weasis://`` URL that
opens the study in Weasis through our DICOMweb (its ``$dicom:rs`` command), carrying a session
token of its own so Weasis can authenticate."""

from __future__ import annotations

import shlex
import urllib.parse

import trio
from quart import Blueprint, Response, jsonify

from pacs.auth import sessions
from pacs.dicomweb.retrieve import find
from pacs.http.auth import principal
from pacs.http.services import WebServices
from pacs.http.urls import root_url

WEASIS_HOURS = 8.0


def weasis_url(dicomweb: str, study: str, token: str) -> str:
    command = " ".join(
        [
            "$dicom:rs",
            "--url",
            shlex.quote(dicomweb),
            "-r",
            shlex.quote(f"studyUID={study}"),
            "-H",
            shlex.quote(f"Authorization: Bearer {token}"),
        ]
    )
    return "weasis://" + urllib.parse.quote(command, safe="")


def blueprint(web: WebServices) -> Blueprint:
    bp = Blueprint("viewers", __name__, url_prefix="/api/studies")

    @bp.get("/<study>/weasis")
    async def weasis(study: str) -> Response:
        await find(web, study)  # 400/404 for a study that is not here
        seconds = WEASIS_HOURS * 3600
        token = await trio.to_thread.run_sync(
            sessions.open_session, web.engine, principal().username, seconds
        )
        url = weasis_url(root_url() + "/dicomweb", study, token)
        return jsonify({"url": url, "expires_in": int(seconds)})

    return bp
