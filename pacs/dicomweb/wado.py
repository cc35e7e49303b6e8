"""WADO-RS routes: instances, metadata, frames and bulk data of a study, series or instance."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence

import trio
from quart import Blueprint, Response, request

from pacs.dicomweb import frames, metadata
from pacs.dicomweb.metacache import Entry, MetadataCache, render
from pacs.dicomweb.negotiation import choose, require_json
from pacs.dicomweb.retrieve import DICOM_OFFERS, find, first_conversion, instance_parts, transcoded
from pacs.http.multipart import encode_parts, new_boundary, write_parts
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
        body = write_parts(instance_parts(web, items, asked, ready), boundary)
        return multipart(body, "application/dicom", boundary)

    bp.add_url_rule("/studies/<study>", "study", retrieve, methods=["GET"])
    bp.add_url_rule("/studies/<study>/series/<series>", "series", retrieve, methods=["GET"])
    bp.add_url_rule(INSTANCE, "instance", retrieve, methods=["GET"])


def _metadata(bp: Blueprint, web: WebServices) -> None:
    cache = MetadataCache(web.settings.http.metadata_cache)
    fallbacks = web.settings.charset.fallback

    async def one_series(items: Sequence[Located]) -> Entry:
        series = items[0].series_uid
        version = (
            await trio.to_thread.run_sync(
                study_version, web.engine, items[0].study_uid, limiter=web.limits.db_read
            ),
            len(items),
        )
        entry = cache.get(series, version)
        if entry is None:
            text = await trio.to_thread.run_sync(render, items, fallbacks, limiter=web.limits.disk)
            entry = Entry(version, text)
            cache.put(series, entry)
        return entry

    async def meta(study: str, series: str | None = None, sop: str | None = None) -> Response:
        require_json()
        items = await find(web, study, series, sop)
        if sop is not None:
            entries = [Entry((), await trio.to_thread.run_sync(render, items, fallbacks))]
        else:
            groups: dict[str, list[Located]] = {}
            for item in items:
                groups.setdefault(item.series_uid, []).append(item)
            entries = [await one_series(group) for group in groups.values()]
        etag = entries[0].etag if len(entries) == 1 else _combined(entries)
        if sop is None and etag in request.headers.get("If-None-Match", ""):
            return Response(b"", status=304, headers={"ETag": etag})
        text = "[" + ",".join(entry.text[1:-1] for entry in entries if entry.text != "[]") + "]"
        body = metadata.with_base(text, root_url() + "/dicomweb")
        response = Response(body, content_type="application/dicom+json")
        if sop is None:
            response.headers["ETag"] = etag
        return response

    bp.add_url_rule("/studies/<study>/metadata", "study_meta", meta, methods=["GET"])
    bp.add_url_rule(
        "/studies/<study>/series/<series>/metadata", "series_meta", meta, methods=["GET"]
    )
    bp.add_url_rule(f"{INSTANCE}/metadata", "instance_meta", meta, methods=["GET"])


def _combined(entries: Sequence[Entry]) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    for entry in entries:
        digest.update(entry.etag.encode())
    return f'"{digest.hexdigest()[:20]}"'


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
