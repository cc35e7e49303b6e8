"""pacs.http.multipart: multipart/related writing, incremental reading, and both together."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterable, Sequence

import pytest

from pacs.http.multipart import (
    BadMultipart,
    Event,
    MultipartReader,
    Part,
    PartData,
    PartEnd,
    PartStart,
    PartTooLarge,
    boundary_of,
    encode_parts,
    new_boundary,
    part_type_of,
    write_parts,
)

Headers = Sequence[tuple[str, str]]
DICOM_PART = [("Content-Type", "application/dicom")]
BOUNDARY = "0f3cf5c0-70e0-41ef-baef-c6f9f65ec3e1"

# Payloads that look like, or almost like, the delimiter "\r\n--" + BOUNDARY.
TRICKY = [
    b"",
    b"plain",
    b"--",
    b"\r\n",
    b"\r\n--",
    b"\r\r\r\n\n\n",
    b"--" + BOUNDARY.encode(),
    b"\n--" + BOUNDARY.encode(),
    b"\r\n--" + BOUNDARY[:-1].encode(),
    b"\r\n--" + BOUNDARY[:-1].encode() + b"\r\n--" + BOUNDARY[:5].encode(),
    b"ends with a partial delimiter\r\n--" + BOUNDARY[:10].encode(),
    b"ends with CR\r",
    b"DICM" + bytes(range(256)) * 4,
]


# -- helpers -------------------------------------------------------------------------------


def parts_of(events: Iterable[Event]) -> list[tuple[dict[str, str], bytes]]:
    """The parts an event stream describes, checking the stream is well formed."""
    parts: list[tuple[dict[str, str], bytes]] = []
    current: bytearray | None = None
    for event in events:
        if isinstance(event, PartStart):
            assert current is None, "PartStart inside a part"
            parts.append((event.headers, b""))
            current = bytearray()
        elif isinstance(event, PartData):
            assert current is not None, "PartData outside a part"
            assert event.data, "empty PartData"
            current += event.data
        else:
            assert isinstance(event, PartEnd)
            assert current is not None, "PartEnd outside a part"
            parts[-1] = (parts[-1][0], bytes(current))
            current = None
    assert current is None, "unfinished part"
    return parts


def read(
    chunks: Iterable[bytes], boundary: str = BOUNDARY, **limits: int | None
) -> list[tuple[dict[str, str], bytes]]:
    limits.setdefault("max_part_bytes", None)
    reader = MultipartReader(boundary, **limits)  # type: ignore[arg-type]
    events: list[Event] = []
    for chunk in chunks:
        events += reader.feed(chunk)
    reader.finish()
    assert reader.done
    return parts_of(events)


def bytewise(body: bytes) -> list[bytes]:
    return [body[i : i + 1] for i in range(len(body))]


def random_chunks(body: bytes, rng: random.Random, largest: int) -> list[bytes]:
    chunks, at = [], 0
    while at < len(body):
        size = rng.randint(1, largest)
        chunks.append(body[at : at + size])
        at += size
    return chunks


def expected(parts: Sequence[tuple[Headers, bytes]]) -> list[tuple[dict[str, str], bytes]]:
    return [({name.lower(): value for name, value in headers}, data) for headers, data in parts]


async def agen(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def parts_stream(parts: Iterable[Part]) -> AsyncIterator[Part]:
    for part in parts:
        yield part


async def collect(body: AsyncIterator[bytes]) -> list[bytes]:
    return [chunk async for chunk in body]


# -- Content-Type --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "boundary"),
    [
        (f'multipart/related; type="application/dicom"; boundary="{BOUNDARY}"', BOUNDARY),
        ("multipart/related; type=application/dicom; boundary=abc123", "abc123"),
        ("Multipart/Related;BOUNDARY=abc;type=application/dicom", "abc"),
        (
            'multipart/related; boundary="with space, comma;semicolon"',
            "with space, comma;semicolon",
        ),
        (
            "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW",
            "----WebKitFormBoundary7MA4YWxkTrZu0gW",
        ),
        ("multipart/mixed; boundary=a@b", "a@b"),
    ],
)
def test_boundary_of(content_type: str, boundary: str) -> None:
    assert boundary_of(content_type) == boundary


@pytest.mark.parametrize(
    ("content_type", "problem"),
    [
        ('multipart/related; type="application/dicom"', "has no boundary parameter"),
        ("application/dicom; boundary=abc", "'application/dicom' is not multipart"),
        ("multipart/related; boundary=", "Content-Type: parameter value"),
        ('multipart/related; boundary=""', "must be 1 to 200 visible ASCII"),
        ('multipart/related; boundary="abc "', "must be 1 to 200 visible ASCII"),
        ('multipart/related; boundary="' + "x" * 201 + '"', "must be 1 to 200"),
        ("multipart", "Content-Type: 'multipart' is not a media type"),
        ("", "Content-Type: empty media type"),
        ('multipart/related; boundary="abc', "unterminated quoted string"),
    ],
)
def test_bad_boundary(content_type: str, problem: str) -> None:
    with pytest.raises(BadMultipart) as caught:
        boundary_of(content_type)
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    ("content_type", "part_type"),
    [
        ('multipart/related; type="application/dicom"; boundary=x', "application/dicom"),
        ("multipart/related; type=application/dicom; boundary=x", "application/dicom"),
        ("multipart/related; Type=Application/DICOM+XML", "application/dicom+xml"),
        ("multipart/related; boundary=x", None),
        ("application/dicom", None),
    ],
)
def test_part_type_of(content_type: str, part_type: str | None) -> None:
    assert part_type_of(content_type) == part_type


def test_part_type_of_malformed() -> None:
    with pytest.raises(BadMultipart, match="Content-Type"):
        part_type_of("multipart/related; type")


def test_new_boundary() -> None:
    boundaries = {new_boundary() for _ in range(20)}
    assert len(boundaries) == 20
    for boundary in boundaries:
        assert len(boundary) == 32
        int(boundary, 16)
        assert boundary_of(f"multipart/related; boundary={boundary}") == boundary


# -- writing -------------------------------------------------------------------------------


def test_encode_parts_bytes() -> None:
    body = encode_parts([(DICOM_PART, b"one"), ([("A", "1"), ("B", "2")], b"two")], "xyz")
    assert body == (
        b"--xyz\r\nContent-Type: application/dicom\r\n\r\none\r\n"
        b"--xyz\r\nA: 1\r\nB: 2\r\n\r\ntwo\r\n"
        b"--xyz--\r\n"
    )
    assert encode_parts([([], b"")], "b") == b"--b\r\n\r\n\r\n--b--\r\n"
    assert encode_parts([], "b") == b"--b--\r\n"


async def test_write_parts_streams_chunk_by_chunk() -> None:
    parts = [
        Part(headers=DICOM_PART, chunks=agen([b"ab", b"", b"cd"])),
        Part(headers=[("Content-Location", "/x")], chunks=agen([b"ef"])),
    ]
    chunks = await collect(write_parts(parts_stream(parts), "xyz"))
    assert chunks == [
        b"--xyz\r\nContent-Type: application/dicom\r\n\r\n",
        b"ab",
        b"cd",
        b"\r\n--xyz\r\nContent-Location: /x\r\n\r\n",
        b"ef",
        b"\r\n--xyz--\r\n",
    ]
    assert b"".join(chunks) == encode_parts(
        [(DICOM_PART, b"abcd"), ([("Content-Location", "/x")], b"ef")], "xyz"
    )


async def test_write_no_parts() -> None:
    assert await collect(write_parts(parts_stream([]), "xyz")) == [b"--xyz--\r\n"]


@pytest.mark.parametrize(
    "headers",
    [[("Content-Type", "a\r\nX-Injected: 1")], [("Bad Name", "v")], [("", "v")], [("A", "\n")]],
)
async def test_write_refuses_header_injection(headers: Headers) -> None:
    with pytest.raises(ValueError, match="invalid part header"):
        await collect(write_parts(parts_stream([Part(headers=headers, chunks=agen([]))]), "b"))
    with pytest.raises(ValueError, match="invalid part header"):
        encode_parts([(headers, b"")], "b")


@pytest.mark.parametrize("boundary", ["", "x" * 71, "ends with space ", "a@b", "a\r\nb"])
async def test_write_refuses_bad_boundary(boundary: str) -> None:
    with pytest.raises(BadMultipart, match="must be 1 to 70"):
        await collect(write_parts(parts_stream([]), boundary))
    with pytest.raises(BadMultipart, match="must be 1 to 70"):
        encode_parts([], boundary)


# -- reading -------------------------------------------------------------------------------


def test_reader_events() -> None:
    reader = MultipartReader("b", max_part_bytes=None)
    body = b"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\n\r\n\r\n--b--\r\n"
    assert reader.feed(body) == [
        PartStart({"content-type": "text/plain"}),
        PartData(b"hello"),
        PartEnd(),
        PartStart({}),
        PartEnd(),
    ]
    assert reader.done
    assert reader.parts == 2
    assert reader.feed(b"epilogue, ignored") == []
    reader.finish()
    assert PartStart({"content-type": "x"}).content_type == "x"
    assert PartStart({}).content_type is None


def test_dicomweb_client_stow_body() -> None:
    # as dicomweb-client builds it: CRLF before every delimiter, none after the close delimiter
    content_type = f'multipart/related; type="application/dicom"; boundary="{BOUNDARY}"'
    first, second = b"DICM" + bytes(200), b"\x00\x01--\r\n--" + bytes(100)
    body = (
        f"\r\n--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n".encode()
        + first
        + f"\r\n--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n".encode()
        + second
        + f"\r\n--{BOUNDARY}--".encode()
    )
    boundary = boundary_of(content_type)
    assert part_type_of(content_type) == "application/dicom"
    want = [
        ({"content-type": "application/dicom"}, first),
        ({"content-type": "application/dicom"}, second),
    ]
    assert read([body], boundary) == want
    assert read(bytewise(body), boundary) == want


def test_preamble_epilogue_and_padding() -> None:
    body = (
        b"This is a preamble.\r\n--b is not it, nor is\r\n--bx\r\n--\r\n"
        b"--b  \t\r\nContent-Type: text/plain\r\n\r\nfirst\r\n"
        b"--b\r\nX: 1\r\n\r\nsecond\r\n"
        b"--b--  \r\nThis is the epilogue.\r\n--b\r\nX: 2\r\n\r\nignored\r\n--b--\r\n"
    )
    want = [({"content-type": "text/plain"}, b"first"), ({"x": "1"}, b"second")]
    assert read([body], "b") == want
    assert read(bytewise(body), "b") == want


def test_first_delimiter_needs_crlf_before_it_too() -> None:
    # "\n--b" is preamble; the close delimiter after it ends a body without parts
    assert read([b"preamble\n--b\r\nX: 1\r\n\r\n\r\n--b--"], "b") == []
    assert read([b"--b--"], "b") == []


def test_delimiter_like_lines_inside_a_part_are_data() -> None:
    data = b"a\r\n--bx\r\n--b-x\r\n--b \tz\r\n--b-"
    body = b"--b\r\n\r\n" + data + b"\r\n--b--"
    assert read([body], "b") == [({}, data)]
    assert read(bytewise(body), "b") == [({}, data)]


def test_header_forms() -> None:
    body = (
        b"--b\r\n"
        b"Content-Type:application/dicom\r\n"
        b"X-Folded: one\r\n  two\r\n"
        b"X-Twice: 1\r\nx-twice: 2\r\n"
        b"X-Empty:\r\n"
        b"CONTENT-LOCATION :  /a/b \r\n\r\n"
        b"data\r\n"
        b"--b\r\nContent-Type: text/plain\nX: 1\n\nlf only\r\n"
        b"--b--"
    )
    assert read([body], "b") == [
        (
            {
                "content-type": "application/dicom",
                "x-folded": "one two",
                "x-twice": "1, 2",
                "x-empty": "",
                "content-location": "/a/b",
            },
            b"data",
        ),
        ({"content-type": "text/plain", "x": "1"}, b"lf only"),
    ]


def test_headers_are_latin1() -> None:
    body = b"--b\r\nX-Name: Caf\xe9\r\n\r\n\r\n--b--"
    assert read([body], "b") == [({"x-name": "Caf\xe9"}, b"")]


@pytest.mark.parametrize("data", TRICKY)
def test_round_trip_tricky_payloads(data: bytes) -> None:
    parts = [(DICOM_PART, data), ([("Content-Type", "text/plain")], data[::-1]), ([], data)]
    body = encode_parts(parts, BOUNDARY)
    assert read([body]) == expected(parts)
    assert read(bytewise(body)) == expected(parts)


def test_round_trip_every_split_point() -> None:
    parts = [(DICOM_PART, payload) for payload in TRICKY[:12]]
    body = b"preamble\r\n" + encode_parts(parts, BOUNDARY) + b"epilogue"
    for at in range(len(body) + 1):
        assert read([body[:at], body[at:]]) == expected(parts), at


def test_round_trip_random_chunkings() -> None:
    rng = random.Random(2387)
    parts = [(DICOM_PART, payload) for payload in TRICKY] + [
        ([("Content-Type", "application/octet-stream")], rng.randbytes(5000))
    ]
    body = encode_parts(parts, BOUNDARY)
    for largest in (2, 3, 7, 50, 300, 5000):
        for _ in range(10):
            assert read(random_chunks(body, rng, largest)) == expected(parts)


async def test_round_trip_write_then_read() -> None:
    rng = random.Random(18)
    payloads = [rng.randbytes(rng.randint(0, 3000)) for _ in range(5)] + TRICKY
    boundary = new_boundary()
    parts = [
        Part(
            headers=[("Content-Type", "application/dicom"), ("X-Index", str(i))],
            chunks=agen(random_chunks(payload, rng, 700)),
        )
        for i, payload in enumerate(payloads)
    ]
    chunks = await collect(write_parts(parts_stream(parts), boundary))
    want = [
        ({"content-type": "application/dicom", "x-index": str(i)}, p)
        for i, p in enumerate(payloads)
    ]
    assert read(chunks, boundary) == want
    assert read(random_chunks(b"".join(chunks), rng, 97), boundary) == want


def test_payload_is_released_as_soon_as_it_is_certain() -> None:
    reader = MultipartReader("b", max_part_bytes=None)
    assert reader.feed(b"--b\r\n\r\n") == [PartStart({})]
    assert reader.feed(b"x" * 1000) == [PartData(b"x" * 1000)]
    # a possible delimiter start is held back, then released when it turns out not to be one
    assert reader.feed(b"y\r\n-") == [PartData(b"y")]
    assert reader.feed(b"-") == []
    assert reader.feed(b"c") == [PartData(b"\r\n--c")]
    assert reader.feed(b"\r\n--b") == []
    assert reader.feed(b" ") == []
    assert reader.feed(b"\r") == []
    assert reader.feed(b"\n") == [PartEnd()]
    assert reader.feed(b"\r\nz\r\n--b-") == [PartStart({}), PartData(b"z")]
    assert reader.feed(b"-") == [PartEnd()]
    reader.finish()


def test_memory_stays_near_one_chunk() -> None:
    rng = random.Random(7)
    chunk = 65536
    body = encode_parts([(DICOM_PART, rng.randbytes(20 * chunk))], BOUNDARY)
    head = len(encode_parts([(DICOM_PART, b"")], BOUNDARY)) - len(f"\r\n--{BOUNDARY}--\r\n")
    reader = MultipartReader(BOUNDARY, max_part_bytes=None)
    received = 0
    for at in range(0, len(body), chunk):
        for event in reader.feed(body[at : at + chunk]):
            if isinstance(event, PartData):
                received += len(event.data)
        # all but a possible delimiter start ("\r\n--" + boundary, less a byte) is handed out
        if at + chunk < len(body):
            held = at + chunk - head - received
            assert 0 <= held < len(f"\r\n--{BOUNDARY}"), at
    reader.finish()
    assert received == 20 * chunk


def test_part_size_limit() -> None:
    body = encode_parts([([], b"a" * 10), ([], b"b" * 10), ([], b"c" * 11)], "b")
    with pytest.raises(PartTooLarge, match="part 3 is larger than 10 bytes") as caught:
        read(bytewise(body), "b", max_part_bytes=10)
    assert isinstance(caught.value, BadMultipart)
    assert len(read([body], "b", max_part_bytes=11)) == 3
    with pytest.raises(PartTooLarge):
        read([body], "b", max_part_bytes=0)
    assert read([encode_parts([([], b"")], "b")], "b", max_part_bytes=0) == [({}, b"")]


@pytest.mark.parametrize(
    ("chunks", "problem"),
    [
        ([], "the body has no boundary delimiter '--b'"),
        ([b"--c\r\n\r\ndata\r\n--c--\r\n"], "does not match the body"),
        ([b"--bb\r\n\r\ndata\r\n--bb--\r\n"], "does not match the body"),
        ([b"--b\r\n"], "the body ended inside part headers (part 1)"),
        ([b"--b\r\nContent-Type: a"], "ended inside part headers"),
        ([b"--b\r\n\r\ndata"], "the body ended inside a part (part 1) without the close"),
        ([b"--b\r\n\r\ndata\r\n--b"], "ended inside a part (part 1)"),
        ([b"--b\r\n\r\ndata\r\n--b\r\n"], "ended inside part headers (part 2)"),
        ([b"--b\r\n\r\ndata\r\n--b-"], "ended inside a part"),
        ([b"--b\nContent-Type: a\n\ndata\n--b--"], "ends with LF alone; CRLF is required"),
        ([b"--b\r\n\r\ndata\r\n--b\n"], "ends with LF alone; CRLF is required"),
        (
            [b"--b\r\nno colon here\r\n\r\n"],
            "part header line 'no colon here' is not 'Name: value'",
        ),
        ([b"--b\r\nBad Name: 1\r\n\r\n"], "is not 'Name: value'"),
        ([b"--b" + b" " * 300], "more than 256 spaces after a boundary delimiter"),
    ],
)
def test_malformed_bodies(chunks: list[bytes], problem: str) -> None:
    for pieces in (chunks, bytewise(b"".join(chunks))):
        with pytest.raises(BadMultipart) as caught:
            read(pieces, "b")
        assert problem in str(caught.value)


def test_header_size_limit() -> None:
    headers = b"X: " + b"h" * 100 + b"\r\n"
    body = b"--b\r\n" + headers + b"\r\ndata\r\n--b--"
    assert read([body], "b", max_header_bytes=len(headers)) == [({"x": "h" * 100}, b"data")]
    for pieces in ([body], bytewise(body)):
        with pytest.raises(BadMultipart, match="the headers of part 1 exceed 50 bytes"):
            read(pieces, "b", max_header_bytes=50)


def test_preamble_limit_stops_a_wrong_boundary_early() -> None:
    reader = MultipartReader("b", max_part_bytes=None, max_preamble_bytes=100)
    assert reader.feed(b"x" * 100) == []
    with pytest.raises(BadMultipart, match="no boundary delimiter '--b' in the first 100 bytes"):
        reader.feed(b"x")


@pytest.mark.parametrize("boundary", ["", "a b ", "x" * 201, "a\r\nb", "caf\xe9"])
def test_reader_refuses_bad_boundary(boundary: str) -> None:
    with pytest.raises(BadMultipart, match="must be 1 to 200 visible ASCII"):
        MultipartReader(boundary, max_part_bytes=None)
