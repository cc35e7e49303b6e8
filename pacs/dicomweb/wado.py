"""WADO-RS routes: instances, metadata, frames and bulk data of a study, series or instance."""

from __future__ import annotations

import functools

import trio
from quart import Blueprint, Response, request

from pacs.dicomweb import frames
from pacs.dicomweb.metacache import Entry, MetadataCache, render
from pacs.dicomweb.negotiation import choose, require_json
from pacs.dicomweb.retrieve import (
    DICOM_OFFERS,
    InstanceBody,
    check_uids,
    find,
    first_conversion,
    transcoded,
)
from pacs.http.multipart import encode_parts, new_boundary
from pacs.http.problems import HttpProblem
from pacs.http.services import WebServices
from pacs.http.urls import root_url
from pacs.index.retrieval import Located, study_version

INSTANCE = "/studies/<study>/series/<series>/instances/<sop>"


def multipart(body: object, part_type: str, boundary: str) -> Response:
    response = Response(
        body,  # type: ignore[arg-type]
        content_type=f'multipart/related; type="{part_type}"; boundary={boundary}',
    )
    response.timeout = None  # a study may take longer than any fixed limit
    return response


def register(bp: Blueprint, web: WebServices) -> None:
    _instances(bp, web)
    _metadata(bp, web)
    _frames(bp, web)


def _instances(bp: Blueprint, web: WebServices) -> None:
    async def retrieve(study: str, series: str | None = None, sop: str | None = None) -> Response:
        asked = choose(DICOM_OFFERS).transfer_syntax
        items = await find(web, study, series, sop)
        ready = await first_conversion(web, items, asked)
        boundary = new_boundary()
        body = InstanceBody(web=web, items=items, asked=asked, ready=ready, boundary=boundary)
        return multipart(body.chunks(), "application/dicom", boundary)

    bp.add_url_rule("/studies/<study>", "study", retrieve, methods=["GET"])
    bp.add_url_rule("/studies/<study>/series/<series>", "series", retrieve, methods=["GET"])
    bp.add_url_rule(INSTANCE, "instance", retrieve, methods=["GET"])


def _metadata(bp: Blueprint, web: WebServices) -> None:
    cache = MetadataCache(web.settings.http.metadata_cache)
    fallbacks = web.settings.charset.fallback

    async def entry_for(study: str, series: str | None, sop: str | None) -> Entry:
        check_uids(study=study, series=series, instance=sop)
        version = await trio.to_thread.run_sync(
            study_version, web.engine, study, limiter=web.limits.db_read
        )
        key = f"{study}/{series or ''}/{sop or ''}"
        entry = cache.get(key, version)
        if entry is None:
            items = await find(web, study, series, sop)
            text = await trio.to_thread.run_sync(render, items, fallbacks, limiter=web.limits.disk)
            entry = Entry(version=version, text=text)
            if sop is None:  # single instances are not worth the room
                cache.put(key, entry)
        return entry

    async def meta(study: str, series: str | None = None, sop: str | None = None) -> Response:
        require_json()
        entry = await entry_for(study, series, sop)
        if entry.etag in request.headers.get("If-None-Match", ""):
            return Response(b"", status=304, headers={"ETag": entry.etag})
        body = entry.body(root_url() + "/dicomweb")
        return Response(body, content_type="application/dicom+json", headers={"ETag": entry.etag})

    bp.add_url_rule("/studies/<study>/metadata", "study_meta", meta, methods=["GET"])
    bp.add_url_rule(
        "/studies/<study>/series/<series>/metadata", "series_meta", meta, methods=["GET"]
    )
    bp.add_url_rule(f"{INSTANCE}/metadata", "instance_meta", meta, methods=["GET"])


def _frames(bp: Blueprint, web: WebServices) -> None:
    async def send_frames(item: Located, numbers: list[int] | None) -> Response:
        choice = choose(frames.MULTIPART_OFFERS + frames.SINGLE_OFFERS)
        is_multipart = choice.offer.media_type == "multipart/related"
        part_type = choice.offer.part_type if is_multipart else choice.offer.media_type
        plan = frames.plan(str(part_type), choice.transfer_syntax, item.transfer_syntax)
        source = await transcoded(web, item, plan.syntax) if plan.convert else item.path
        data = await trio.to_thread.run_sync(
            frames.frames, source, numbers, limiter=web.limits.disk
        )
        content_type = f"{plan.media_type}; transfer-syntax={plan.syntax}"
        if not is_multipart:
            if len(data) != 1:
                raise HttpProblem(406, "several frames need multipart/related")
            return Response(data[0], content_type=content_type)
        boundary = new_boundary()
        body = encode_parts([([("Content-Type", content_type)], d) for d in data], boundary)
        return multipart(body, plan.media_type, boundary)

    async def frame_list(study: str, series: str, sop: str, numbers: str) -> Response:
        wanted = frames.parse_numbers(numbers)
        items = await find(web, study, series, sop)
        return await send_frames(items[0], wanted)

    async def bulkdata(study: str, series: str, sop: str, tag_path: str) -> Response:
        items = await find(web, study, series, sop)
        if tag_path.upper() in ("7FE00010", "7FE00008", "7FE00009"):
            return await send_frames(items[0], None)
        value = await trio.to_thread.run_sync(
            functools.partial(frames.bulk_value, items[0].path, tag_path),
            limiter=web.limits.disk,
        )
        choice = choose(frames.MULTIPART_OFFERS[:1] + frames.SINGLE_OFFERS[:1])
        if choice.offer.media_type != "multipart/related":
            return Response(value, content_type=frames.OCTET)
        boundary = new_boundary()
        body = encode_parts([([("Content-Type", frames.OCTET)], value)], boundary)
        return multipart(body, frames.OCTET, boundary)

    bp.add_url_rule(f"{INSTANCE}/frames/<numbers>", "frames", frame_list, methods=["GET"])
    bp.add_url_rule(f"{INSTANCE}/bulkdata/<path:tag_path>", "bulk", bulkdata, methods=["GET"])
