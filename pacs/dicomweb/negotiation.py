"""Which representation a DICOMweb request gets: its ``accept`` query parameter, else its Accept
header, against what the resource offers; 406 naming the offers when nothing fits."""

from __future__ import annotations

from collections.abc import Sequence

from quart import request

from pacs.http.mediatypes import BadMediaType, Choice, Offer, negotiate, parse_accept
from pacs.http.problems import HttpProblem

JSON_OFFERS = (Offer("application/dicom+json"), Offer("application/json"))


def choose(offers: Sequence[Offer]) -> Choice:
    asked = request.args.get("accept")
    try:
        if asked:
            ranges = parse_accept(asked, from_query=True)
        else:
            ranges = parse_accept(request.headers.get("Accept"))
    except BadMediaType as exc:
        raise HttpProblem(400, f"Accept: {exc}") from None
    choice = negotiate(ranges, offers)
    if choice is None:
        wanted = asked or request.headers.get("Accept", "")
        available = ", ".join(offer.content_type for offer in offers)
        raise HttpProblem(406, f"cannot answer {wanted!r}; this resource offers {available}")
    return choice


def require_json() -> str:
    """The JSON media type to answer with (406 if the client takes neither)."""
    return choose(JSON_OFFERS).offer.media_type
