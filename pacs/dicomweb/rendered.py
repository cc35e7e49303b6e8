"""Rendered resources and thumbnails (PS3.18 10.4.1.1.6-7): JPEG or PNG made by the imaging
actor from the stored file. A study or series renders as one part per instance; a thumbnail
shows the middle instance of the first series, ``size`` pixels (128 by default) on its longer
side unless a ``viewport`` says otherwise."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from quart import Blueprint, Response, request

from pacs.dicomweb.negotiation import choose
from pacs.dicomweb.retrieve import find, once
from pacs.dicomweb.wado import INSTANCE, multipart
from pacs.http.mediatypes import Offer
from pacs.http.multipart import Part, new_boundary, write_parts
from pacs.http.problems import HttpProblem
from pacs.http.services import WebServices
from pacs.imaging.render import ImageFormat, RenderOptions, format_for, rendered_options
from pacs.index.retrieval import Located
from pacs.messages import RenderRequest
from pacs.runtime import rpc

IMAGE_TYPES = ("image/jpeg", "image/png")
SINGLE = tuple(Offer(t) for t in IMAGE_TYPES)
MULTI = tuple(Offer("multipart/related", part_type=t) for t in IMAGE_TYPES)
THUMBNAIL_SIZE = 128


async def render(web: WebServices, item: Located, options: RenderOptions) -> bytes:
    request_ = RenderRequest(path=item.path, options=options)
    return await rpc.call(
        web.imaging, request_, timeout=web.settings.imaging.timeout, what="imaging"
    )


def _format(media_type: str) -> ImageFormat:
    fmt = format_for(media_type)
    if fmt is None:  # negotiation only offers what render makes
        raise HttpProblem(406, f"cannot render {media_type}")
    return fmt


def _thumbnail_options() -> RenderOptions:
    if request.args.get("viewport"):
        return rendered_options(request.args)
    text = request.args.get("size", str(THUMBNAIL_SIZE))
    if not text.isdigit() or not 1 <= int(text) <= 1024:
        raise HttpProblem(400, f"size {text!r}: expected a number of pixels from 1 to 1024")
    return RenderOptions(rows=int(text), columns=int(text), quality=80)


def register(bp: Blueprint, web: WebServices) -> None:
    async def one(item: Located, frame: int | None) -> Response:
        media = choose(SINGLE).offer.media_type
        options = rendered_options(request.args, fmt=_format(media), frame_number=frame)
        return Response(await render(web, item, options), content_type=media)

    async def parts(items: Sequence[Located], options: RenderOptions) -> AsyncIterator[Part]:
        for item in items:
            data = await render(web, item, options)
            yield Part(headers=[("Content-Type", options.media_type)], chunks=once(data))

    async def many(study: str, series: str | None = None) -> Response:
        part_type = str(choose(MULTI).offer.part_type)
        options = rendered_options(request.args, fmt=_format(part_type))
        items = await find(web, study, series)
        boundary = new_boundary()
        return multipart(write_parts(parts(items, options), boundary), part_type, boundary)

    async def instance(study: str, series: str, sop: str) -> Response:
        return await one((await find(web, study, series, sop))[0], None)

    async def frame(study: str, series: str, sop: str, number: str) -> Response:
        if not number.isdigit():
            raise HttpProblem(400, f"rendered frame {number!r}: expected one frame number")
        return await one((await find(web, study, series, sop))[0], int(number))

    async def thumbnail(
        study: str, series: str | None = None, sop: str | None = None, number: str = "1"
    ) -> Response:
        items = await find(web, study, series, sop)
        first_series = [i for i in items if i.series_uid == items[0].series_uid]
        item = first_series[len(first_series) // 2]
        if not number.isdigit():
            raise HttpProblem(400, f"thumbnail frame {number!r}: expected one frame number")
        options = _thumbnail_options()
        options = RenderOptions(frame=int(number) - 1, fmt="jpeg", quality=options.quality,
                                rows=options.rows, columns=options.columns)  # fmt: skip
        return Response(await render(web, item, options), content_type="image/jpeg")

    series_path = "/studies/<study>/series/<series>"
    rules = (
        ("/studies/<study>/rendered", "study_rendered", many),
        (f"{series_path}/rendered", "series_rendered", many),
        (f"{INSTANCE}/rendered", "instance_rendered", instance),
        (f"{INSTANCE}/frames/<number>/rendered", "frame_rendered", frame),
        ("/studies/<study>/thumbnail", "study_thumbnail", thumbnail),
        (f"{series_path}/thumbnail", "series_thumbnail", thumbnail),
        (f"{INSTANCE}/thumbnail", "instance_thumbnail", thumbnail),
        (f"{INSTANCE}/frames/<number>/thumbnail", "frame_thumbnail", thumbnail),
    )
    for rule, name, view in rules:
        bp.add_url_rule(rule, name, view, methods=["GET"])
