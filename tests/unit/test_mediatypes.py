"""pacs.http.mediatypes: Accept parsing and DICOMweb content negotiation."""

from __future__ import annotations

import pytest

from pacs.http.mediatypes import (
    ANY,
    BadMediaType,
    Choice,
    MediaRange,
    Offer,
    negotiate,
    parse_accept,
    parse_media_type,
)

DICOM = "application/dicom"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
EXPLICIT_LE = "1.2.840.10008.1.2.1"


def mr(media_type: str, *params: tuple[str, str], q: float = 1.0) -> MediaRange:
    type_, subtype = media_type.split("/")
    return MediaRange(type=type_, subtype=subtype, params=params, q=q)


# -- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "", "   ", ",", " , ,"])
def test_absent_or_empty_header_is_anything(header: str | None) -> None:
    assert parse_accept(header) == [ANY]
    assert mr("*/*") == ANY


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("application/dicom+json", [mr("application/dicom+json")]),
        ("Application/DICOM+JSON", [mr("application/dicom+json")]),
        ("*/*", [mr("*/*")]),
        ("image/*;q=0.5", [mr("image/*", q=0.5)]),
        (
            "image/jpeg, image/png;q=0.8 ,*/*;q=0.1",
            [mr("image/jpeg"), mr("image/png", q=0.8), mr("*/*", q=0.1)],
        ),
        (
            f'multipart/related; type="application/dicom"; transfer-syntax={JPEG_BASELINE}',
            [mr("multipart/related", ("type", DICOM), ("transfer-syntax", JPEG_BASELINE))],
        ),
        ("multipart/related;type=application/dicom", [mr("multipart/related", ("type", DICOM))]),
        (
            'multipart/related; type="application/dicom"; transfer-syntax=*',
            [mr("multipart/related", ("type", DICOM), ("transfer-syntax", "*"))],
        ),
        # parameter names lower-cased, values kept as sent
        ("text/plain; Charset=UTF-8", [mr("text/plain", ("charset", "UTF-8"))]),
        (
            'multipart/related; TYPE="Application/DICOM"',
            [mr("multipart/related", ("type", "Application/DICOM"))],
        ),
        # quoted values may hold commas, semicolons, equals signs and escapes
        ('text/x; a="1,2;3=4"; b=5', [mr("text/x", ("a", "1,2;3=4"), ("b", "5"))]),
        (r'text/x; a="say \"hi\"\\"', [mr("text/x", ("a", 'say "hi"\\'))]),
        ('text/x; a=""', [mr("text/x", ("a", ""))]),
        # q anywhere among the parameters, whitespace around separators and "="
        ("text/x;q=0.2;a=b", [mr("text/x", ("a", "b"), q=0.2)]),
        ("text/x ; a = b ; q = 0", [mr("text/x", ("a", "b"), q=0.0)]),
        ('text/x;q="0.7"', [mr("text/x", q=0.7)]),
        ("text/x;q=1.000", [mr("text/x")]),
        ("text/x;q=.5", [mr("text/x", q=0.5)]),
        # empty list elements and empty parameters are skipped
        ("text/a,,text/b;", [mr("text/a"), mr("text/b")]),
        # repeated parameters are kept; param() gives the first
        ("text/x;a=1;a=2", [mr("text/x", ("a", "1"), ("a", "2"))]),
    ],
)
def test_parse_accept(header: str, expected: list[MediaRange]) -> None:
    assert parse_accept(header) == expected


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("application", "is not a media range"),
        ("application/", "is not a media range"),
        ("/json", "is not a media range"),
        ("*/json", "is not a media range"),
        ("text/plain/x", "is not a media range"),
        ("text /plain", "is not a media range"),
        ("text/pl@in", "is not a media range"),
        ("text/x;q=2", "q=2 in 'text/x;q=2' is not a number from 0 to 1"),
        ("text/x;q=-0.5", "is not a number from 0 to 1"),
        ("text/x;q=abc", "is not a number from 0 to 1"),
        ("text/x;q=nan", "is not a number from 0 to 1"),
        ("text/x;q=1e-1", "is not a number from 0 to 1"),
        ("text/x;q=", "must be a token or quoted"),
        ("text/x;q=0.1;q=0.2", "more than one q parameter"),
        ("text/x;flowed", "parameter 'flowed' in 'text/x;flowed' is not name=value"),
        ("text/x;=1", "is not name=value"),
        ('text/x;a="1', "unterminated quoted string"),
        ('text/x;a="1\\"', "unterminated quoted string"),
        ('text/x;a="1"2', "text after a quoted parameter value"),
        ("text/x;a=b c", "must be a token or quoted"),
        ("text/x;a=", "must be a token or quoted"),
    ],
)
def test_malformed_accept(header: str, problem: str) -> None:
    with pytest.raises(BadMediaType) as caught:
        parse_accept(header)
    assert problem in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_accept_query_parameter() -> None:
    # ?accept=multipart%2Frelated%3Btype%3D%22application%2Fdicom%22, URL-decoded
    assert parse_accept('multipart/related;type="application/dicom"', from_query=True) == [
        mr("multipart/related", ("type", DICOM))
    ]
    # ?accept=application/dicom+json,multipart/related;type=application/dicom+xml read by a
    # form decoder, which turns "+" into a space
    decoded = "application/dicom json,multipart/related; type=application/dicom xml"
    assert parse_accept(decoded, from_query=True) == [
        mr("application/dicom+json"),
        mr("multipart/related", ("type", "application/dicom+xml")),
    ]
    # an encoded "+" (%2B) and a space after ";" survive
    assert parse_accept("application/dicom+json; q=0.5", from_query=True) == [
        mr("application/dicom+json", q=0.5)
    ]
    with pytest.raises(BadMediaType):
        parse_accept(decoded)


def test_media_range_helpers() -> None:
    (media_range,) = parse_accept(
        f'multipart/related; Type="application/dicom"; transfer-syntax={JPEG_BASELINE}; q=0.9'
    )
    assert media_range.media_type == "multipart/related"
    assert media_range.param("type") == DICOM
    assert media_range.param("TYPE") == DICOM
    assert media_range.param("transfer-syntax") == JPEG_BASELINE
    assert media_range.param("q") is None
    assert media_range.param("charset") is None
    assert media_range.part_type == ("application", "dicom")
    assert media_range.q == 0.9
    assert str(media_range) == (
        f'multipart/related; type="application/dicom"; transfer-syntax={JPEG_BASELINE}; q=0.9'
    )
    assert str(mr("text/x", ("a", 'b "c"'))) == r'text/x; a="b \"c\""'
    assert mr("text/x", ("a", "1")).param("a") == "1"
    assert mr("text/x", ("a", "1"), ("a", "2")).param("a") == "1"


@pytest.mark.parametrize(
    ("media_range", "type_", "subtype", "expected"),
    [
        ("*/*", "image", "jpeg", True),
        ("*/*", "multipart", "related", True),
        ("image/*", "image", "jpeg", True),
        ("image/*", "IMAGE", "PNG", True),
        ("image/*", "application", "jpeg", False),
        ("image/jpeg", "image", "jpeg", True),
        ("image/jpeg", "image", "png", False),
        ("image/jpeg", "application", "jpeg", False),
        ("Image/JPEG", "image", "jpeg", True),
    ],
)
def test_matches(media_range: str, type_: str, subtype: str, expected: bool) -> None:
    (parsed,) = parse_accept(media_range)
    assert parsed.matches(type_, subtype) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("*/*", 0),
        ("image/*", 1),
        ("image/png", 2),
        ('multipart/related; type="*/*"', 2),
        ('multipart/related; type="image/*"', 3),
        ('multipart/related; type="application/dicom"', 4),
        (f"multipart/related; type=application/dicom; transfer-syntax={JPEG_BASELINE}", 4),
        ("multipart/related; type=nonsense", 2),
        ("text/plain; charset=utf-8", 2),
    ],
)
def test_specificity(text: str, expected: int) -> None:
    (parsed,) = parse_accept(text)
    assert parsed.specificity == expected


def test_parse_media_type() -> None:
    parsed = parse_media_type('multipart/related; type="application/dicom"; boundary=a1; q=x')
    assert parsed == mr("multipart/related", ("type", DICOM), ("boundary", "a1"), ("q", "x"))
    for bad in ("", "  ", "*/*", "image/*", "text", "text/x, text/y"):
        with pytest.raises(BadMediaType):
            parse_media_type(bad)


# -- offers --------------------------------------------------------------------------------


def test_offer() -> None:
    offer = Offer("Multipart/Related", part_type="Application/DICOM", transfer_syntaxes=["1.2"])
    assert offer.media_type == "multipart/related"
    assert offer.part_type == DICOM
    assert offer.transfer_syntaxes == frozenset({"1.2"})
    assert offer.content_type == 'multipart/related; type="application/dicom"'
    assert Offer("application/dicom+json").content_type == "application/dicom+json"
    assert Offer("image/png").transfer_syntaxes is None
    for bad in ("image", "image/*", "*/*", "image/jp eg"):
        with pytest.raises(ValueError, match="not a concrete type/subtype"):
            Offer(bad)
    with pytest.raises(ValueError, match="part_type"):
        Offer("multipart/related", part_type="application/*")
    with pytest.raises(TypeError, match="not one string"):
        Offer("multipart/related", transfer_syntaxes=EXPLICIT_LE)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("*/*", True),
        ("multipart/*", True),
        ("multipart/related", True),
        ("multipart/related; type=application/dicom", True),
        ('multipart/related; type="APPLICATION/DICOM"', True),
        ('multipart/related; type="application/*"', True),
        ('multipart/related; type="*/*"', True),
        ("multipart/related; type=application/octet-stream", False),
        ('multipart/related; type="image/*"', False),
        ("multipart/related; type=garbage", False),
        ("multipart/mixed; type=application/dicom", False),
        ("application/dicom", False),
        ("*/*; type=image/jpeg", False),
        (f"multipart/related; type=application/dicom; transfer-syntax={EXPLICIT_LE}", True),
        (f"multipart/related; type=application/dicom; transfer-syntax={JPEG_BASELINE}", False),
        ("multipart/related; type=application/dicom; transfer-syntax=*", True),
        ("multipart/related; transfer-syntax=1.2.3", False),
        ("multipart/related; charset=utf-8", True),
    ],
)
def test_offer_accepted_by(header: str, expected: bool) -> None:
    offer = Offer(
        "multipart/related", part_type=DICOM, transfer_syntaxes={EXPLICIT_LE, "1.2.840.10008.1.2"}
    )
    (media_range,) = parse_accept(header)
    assert offer.accepted_by(media_range) is expected


def test_offer_without_part_type_refuses_ranges_naming_one() -> None:
    (media_range,) = parse_accept("application/dicom+json; type=application/dicom")
    assert not Offer("application/dicom+json").accepted_by(media_range)
    (media_range,) = parse_accept("application/dicom+json; transfer-syntax=1.2.3")
    assert Offer("application/dicom+json").accepted_by(media_range)


# -- negotiation ---------------------------------------------------------------------------

INSTANCES = [Offer("multipart/related", part_type=DICOM)]
METADATA = [Offer("application/dicom+json"), Offer("application/json")]
RENDERED = [Offer("image/jpeg"), Offer("image/png")]
BULK = [
    Offer("multipart/related", part_type="application/octet-stream"),
    Offer("multipart/related", part_type="image/jpeg"),
]


def chosen(header: str | None, offers: list[Offer]) -> str | None:
    choice = negotiate(parse_accept(header), offers)
    if choice is None:
        return None
    assert choice.offer in offers
    return choice.offer.part_type or choice.offer.media_type


@pytest.mark.parametrize(
    ("header", "offers", "expected"),
    [
        # absent header: the first offer, the resource's default
        (None, INSTANCES, DICOM),
        (None, METADATA, "application/dicom+json"),
        (None, RENDERED, "image/jpeg"),
        ("*/*", BULK, "application/octet-stream"),
        ("multipart/related", BULK, "application/octet-stream"),
        # exact and wildcard matches
        ("application/json", METADATA, "application/json"),
        ("application/*", METADATA, "application/dicom+json"),
        ("image/png", RENDERED, "image/png"),
        ("image/*", RENDERED, "image/jpeg"),
        ('multipart/related; type="image/jpeg"', BULK, "image/jpeg"),
        ('multipart/related; type="image/*"', BULK, "image/jpeg"),
        ('multipart/related; type="application/dicom"', INSTANCES, DICOM),
        ("multipart/related; type=application/dicom", INSTANCES, DICOM),
        # nothing acceptable
        ("multipart/related; type=application/octet-stream", INSTANCES, None),
        ("application/dicom+xml", METADATA, None),
        ("text/html", RENDERED, None),
        ("image/png;q=0", RENDERED, None),
        ("*/*;q=0", METADATA, None),
        # highest q wins over offer order
        ("image/jpeg;q=0.5, image/png", RENDERED, "image/png"),
        ("image/jpeg;q=0.5, image/png;q=0.6", RENDERED, "image/png"),
        ("application/json, application/dicom+json;q=0.9", METADATA, "application/json"),
        # equal q: the more specific range, then offer order
        ("image/*, image/png", RENDERED, "image/png"),
        ("image/png, image/jpeg", RENDERED, "image/jpeg"),
        ("*/*;q=0.5, image/*;q=0.5, image/png;q=0.5", RENDERED, "image/png"),
        # a more specific range overrides a wildcard's q, also to refuse an offer
        ("*/*, image/jpeg;q=0", RENDERED, "image/png"),
        ("image/*;q=0.2, image/png;q=0.9", RENDERED, "image/png"),
        ("image/*, image/jpeg;q=0.3", RENDERED, "image/png"),
        ("*/*;q=0.9, image/*;q=0.1", RENDERED + METADATA, "application/dicom+json"),
        ('*/*, multipart/related; type="application/octet-stream";q=0', BULK, "image/jpeg"),
        # several ranges, one of them acceptable
        (
            "application/dicom+xml, multipart/related; type=application/dicom;q=0.3",
            INSTANCES,
            DICOM,
        ),
    ],
)
def test_negotiate(header: str | None, offers: list[Offer], expected: str | None) -> None:
    assert chosen(header, offers) == expected


def test_choice_carries_the_selecting_range() -> None:
    header = (
        f'multipart/related; type="application/dicom"; transfer-syntax={JPEG_BASELINE}; q=0.9,'
        'multipart/related; type="application/dicom"; transfer-syntax=*; q=0.5,'
        "application/dicom+json"
    )
    ranges = parse_accept(header)
    choice = negotiate(ranges, INSTANCES)
    assert choice == Choice(offer=INSTANCES[0], media_range=ranges[0])
    assert choice.transfer_syntax == JPEG_BASELINE

    # an offer that cannot make JPEG Baseline falls back to the next range
    limited = [Offer("multipart/related", part_type=DICOM, transfer_syntaxes={EXPLICIT_LE})]
    choice = negotiate(ranges, limited)
    assert choice is not None
    assert choice.media_range is ranges[1]
    assert choice.transfer_syntax == "*"

    # without transfer-syntax the caller uses the resource's default
    choice = negotiate(parse_accept("multipart/related; type=application/dicom"), INSTANCES)
    assert choice is not None
    assert choice.transfer_syntax is None


def test_transfer_syntax_ranges_of_equal_specificity_go_by_q() -> None:
    header = (
        f"multipart/related; type=application/dicom; transfer-syntax={JPEG_BASELINE}; q=0,"
        "multipart/related; type=application/dicom; q=0.8"
    )
    choice = negotiate(parse_accept(header), INSTANCES)
    assert choice is not None
    assert choice.media_range.q == 0.8
    assert choice.transfer_syntax is None


def test_transfer_syntax_nobody_can_make_is_not_acceptable() -> None:
    limited = [Offer("multipart/related", part_type=DICOM, transfer_syntaxes={EXPLICIT_LE})]
    header = f"multipart/related; type=application/dicom; transfer-syntax={JPEG_BASELINE}"
    assert negotiate(parse_accept(header), limited) is None
    assert negotiate(parse_accept(header), INSTANCES) is not None


def test_negotiate_with_nothing() -> None:
    assert negotiate(parse_accept(None), []) is None
    assert negotiate([], RENDERED) is None
