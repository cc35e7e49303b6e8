"""pacs.model.charset: ISO 2022 code extensions (PS3.5 Annexes H and I), fallbacks, fuzzing."""

from __future__ import annotations

import random

import pytest

from pacs.model.charset import Decoded, decode_value, encode_utf8
from tests.unit.charset_cases import (
    JAPANESE,
    JAPANESE_H31,
    JAPANESE_H32,
    KOREAN,
    KOREAN_I2,
    LATIN_SETS,
    SINGLE_BYTE,
    _no_pydicom_log,  # noqa: F401 (autouse fixture)
    iso2022_jp_pn,
    pydicom_pn,
)

pytestmark = [  # no warning may leak from decoding (pydicom warns with UserWarning)
    pytest.mark.filterwarnings("error::UserWarning"),
    pytest.mark.filterwarnings("error::DeprecationWarning"),
]

# -- ISO 2022 code extensions (PS3.5 Annexes H and I) ------------------------------------------


def test_japanese_annex_h31_bytes() -> None:
    assert iso2022_jp_pn(JAPANESE) == JAPANESE_H31
    decoded = decode_value(JAPANESE_H31, ("", "ISO 2022 IR 87"), vr="PN")
    assert decoded == Decoded(
        text=JAPANESE, charset="ISO 2022 IR 87", repaired=False, declared="\\ISO 2022 IR 87"
    )
    assert decoded.text == pydicom_pn(JAPANESE_H31, ["", "ISO 2022 IR 87"])


def test_japanese_annex_h32_half_width_katakana() -> None:
    declared = ("ISO 2022 IR 13", "ISO 2022 IR 87")
    decoded = decode_value(JAPANESE_H32, declared, vr="PN")
    assert decoded.text == "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"
    assert decoded.text == pydicom_pn(JAPANESE_H32, list(declared))
    assert (decoded.charset, decoded.repaired) == ("ISO 2022 IR 13\\ISO 2022 IR 87", False)


def test_korean_annex_i2_bytes() -> None:
    decoded = decode_value(KOREAN_I2, ("", "ISO 2022 IR 149"), vr="PN")
    assert decoded == Decoded(
        text=KOREAN, charset="ISO 2022 IR 149", repaired=False, declared="\\ISO 2022 IR 149"
    )
    assert decoded.text == pydicom_pn(KOREAN_I2, ["", "ISO 2022 IR 149"])


@pytest.mark.parametrize(
    "name", ["山田^太郎", "やまだ^たろう", "=山田^太郎", "鈴木^一郎=すずき^いちろう"]
)
def test_japanese_round_trip(name: str) -> None:
    raw = iso2022_jp_pn(name)
    assert decode_value(raw, ("", "ISO 2022 IR 87"), vr="PN").text == name


def test_japanese_delimiter_bytes_inside_two_byte_mode_do_not_split() -> None:
    # ま is 0x24 0x5E in JIS X 0208: its second byte is '^'; 0x3D ('=') and 0x5C ('\\') too
    text = "ま=ゼ\\ぜ"
    assert "ま".encode("iso2022_jp")[3:5] == b"$^"
    raw = b"\\".join(iso2022_jp_pn(part) for part in text.split("\\"))
    assert decode_value(raw, ("", "ISO 2022 IR 87"), vr="PN").text == text
    assert decode_value(raw, ("", "ISO 2022 IR 87"), vr="LO").text == text


def test_japanese_multi_valued_lo_and_text() -> None:
    raw = "胸部\\腹部".encode("iso2022_jp").replace(b"\\", b"\x1b(B\\\x1b$B")
    assert decode_value(raw, ("", "ISO 2022 IR 87"), vr="LO").text == "胸部\\腹部"
    text = "所見なし\r\n異常なし"
    assert decode_value(text.encode("iso2022_jp"), ("", "ISO 2022 IR 87"), vr="LT").text == text


def test_korean_without_escape_sequences_is_repaired_with_declared_set() -> None:
    decoded = decode_value("홍^길동".encode("euc_kr"), ("", "ISO 2022 IR 149"), vr="PN")
    assert (decoded.text, decoded.charset, decoded.repaired) == ("홍^길동", "ISO 2022 IR 149", True)


def test_gb18030_bytes_declared_japanese_are_repaired() -> None:
    decoded = decode_value("张三".encode("gb18030"), ("", "ISO 2022 IR 87"), vr="PN")
    assert (decoded.text, decoded.charset, decoded.repaired) == ("张三", "GB18030", True)


def test_half_width_katakana_iso_ir_13_is_kept() -> None:
    decoded = decode_value(b"\xd4\xcf\xc0\xde^\xc0\xdb\xb3", ("ISO_IR 13",), vr="PN")
    assert (decoded.text, decoded.charset, decoded.repaired) == ("ﾔﾏﾀﾞ^ﾀﾛｳ", "ISO_IR 13", False)


@pytest.mark.parametrize("declared", [(), ("ISO_IR 100",), ("GB18030",)])
def test_undeclared_escape_sequences_are_silent(declared: tuple[str, ...]) -> None:
    decoded = decode_value(JAPANESE_H31, declared, vr="PN")
    assert decoded.repaired is False
    assert decoded.text.startswith("Yamada^Tarou=")


# -- fallbacks and declared spellings ----------------------------------------------------------


@pytest.mark.parametrize(
    ("fallbacks", "charset"),
    [
        (("GB18030",), "GB18030"),
        (("GBK",), "GBK"),
        (("gb18030",), "GB18030"),
        (("gbk",), "GBK"),
        (("cp936",), "GBK"),
        (("nonsense", "GBK"), "GBK"),
        (("ISO_IR 100", "GB18030"), "GB18030"),
    ],
)
def test_fallback_names(fallbacks: tuple[str, ...], charset: str) -> None:
    decoded = decode_value("王小明".encode("gbk"), ("ISO_IR 100",), vr="PN", fallbacks=fallbacks)
    assert (decoded.text, decoded.charset, decoded.repaired) == ("王小明", charset, True)


@pytest.mark.parametrize("fallbacks", [(), ("nonsense",), ("ISO_IR 100",)])
def test_no_usable_fallback_keeps_declared(fallbacks: tuple[str, ...]) -> None:
    raw = "王小明".encode("gb18030")
    decoded = decode_value(raw, ("ISO_IR 100",), vr="PN", fallbacks=fallbacks)
    assert decoded == Decoded(
        text=raw.decode("latin-1"), charset="ISO_IR 100", repaired=False, declared="ISO_IR 100"
    )


def test_non_chinese_fallback_codec() -> None:
    decoded = decode_value("홍길동".encode("euc_kr"), ("ISO_IR 100",), fallbacks=("euc_kr",))
    assert (decoded.text, decoded.charset, decoded.repaired) == ("홍길동", "euc_kr", True)


@pytest.mark.parametrize(
    ("declared", "charset"),
    [
        (("ISO-IR 100",), "ISO_IR 100"),
        (("ISO_IR100",), "ISO_IR 100"),
        (("iso_ir 100",), "ISO_IR 100"),
        (("ISO IR 100",), "ISO_IR 100"),
        (("latin-1",), "ISO_IR 100"),
        (("gb18030",), "GB18030"),
        (("utf-8",), "ISO_IR 192"),
        (("FOO",), "ISO_IR 6"),
        (("ISO_IR 999",), "ISO_IR 6"),
        (("ISO-2022-IR-87",), "ISO 2022 IR 87"),
        (("ISO_IR 203",), "ISO_IR 203"),
        (("latin9",), "ISO_IR 203"),
    ],
)
def test_declared_spellings_are_resolved_silently(declared: tuple[str, ...], charset: str) -> None:
    assert decode_value(b"Doe^John", declared, vr="PN").charset == charset


@pytest.mark.parametrize(
    ("declared", "raw", "text"),
    [
        (("ISO_IR 192", "GB18030"), "张三".encode(), "张三"),
        (("GB18030", "ISO 2022 IR 87"), "张三".encode("gb18030"), "张三"),
        (("ISO 2022 IR 6", "ISO_IR 192"), b"Doe", "Doe"),
    ],
)
def test_stand_alone_sets_with_extensions_are_silent(
    declared: tuple[str, ...], raw: bytes, text: str
) -> None:
    assert decode_value(raw, declared, vr="PN").text == text


def test_declared_as_a_bare_string() -> None:
    assert decode_value(JAPANESE_H31, "\\ISO 2022 IR 87", vr="PN").text == JAPANESE
    assert decode_value(b"M\xfcller", "ISO_IR 100").text == "Müller"


def test_vr_is_case_insensitive() -> None:
    assert decode_value(JAPANESE_H31, ("", "ISO 2022 IR 87"), vr="pn").text == JAPANESE


# -- properties and fuzzing --------------------------------------------------------------------


def _gb2312_hanzi(rng: random.Random) -> str:
    return bytes([rng.randint(0xB0, 0xD6), rng.randint(0xA1, 0xFE)]).decode("gb2312")


@pytest.mark.parametrize("seed", range(20))
def test_random_gb2312_names_round_trip(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(50):
        name = "".join(_gb2312_hanzi(rng) for _ in range(rng.randint(1, 4)))
        if rng.random() < 0.5:
            name += "^" + "".join(_gb2312_hanzi(rng) for _ in range(rng.randint(1, 3)))
        decoded = decode_value(name.encode("gb18030"), rng.choice(LATIN_SETS), vr="PN")
        assert (decoded.text, decoded.charset, decoded.repaired) == (name, "GB18030", True)


@pytest.mark.parametrize("seed", range(10))
def test_random_ascii_is_kept(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(100):
        raw = bytes(rng.choice(range(0x20, 0x7F)) for _ in range(rng.randint(0, 40)))
        decoded = decode_value(raw, rng.choice(SINGLE_BYTE), vr=rng.choice(["PN", "LO"]))
        assert (decoded.text, decoded.repaired) == (raw.decode("ascii"), False)


FUZZ_DECLARED = [
    *SINGLE_BYTE,
    ("ISO_IR 192",),
    ("GB18030",),
    ("GBK",),
    ("ISO_IR 13",),
    ("", "ISO 2022 IR 87"),
    ("ISO 2022 IR 13", "ISO 2022 IR 87"),
    ("", "ISO 2022 IR 149"),
    ("", "ISO 2022 IR 159"),
    ("", "ISO 2022 IR 58"),
    ("", "ISO 2022 IR 87", "ISO 2022 IR 159"),
    ("ISO 2022 IR 6", "ISO 2022 IR 100"),
    ("ISO 2022 GBK",),
    ("ISO 2022 58",),
    ("bogus",),
    ("ISO_IR 192", "GBK"),
]
ESCAPES = [
    b"\x1b$B",
    b"\x1b(B",
    b"\x1b(J",
    b"\x1b)I",
    b"\x1b$)C",
    b"\x1b$(D",
    b"\x1b$)A",
    b"\x1b-A",
    b"\x1b",
    b"\x1b$",
    b"^",
    b"=",
    b"\\",
    b"\r\n",
]


@pytest.mark.parametrize("seed", range(40))
def test_fuzz_never_raises(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(150):
        parts = [
            rng.randbytes(rng.randint(0, 6)) if rng.random() < 0.6 else rng.choice(ESCAPES)
            for _ in range(rng.randint(0, 8))
        ]
        raw = b"".join(parts)
        declared = rng.choice(FUZZ_DECLARED)
        vr = rng.choice(["PN", "LO", "SH", "ST", "LT", "UT", "UC"])
        fallbacks = rng.choice([("GB18030",), ("GBK", "utf-8"), (), ("nonsense",), ("euc_kr",)])
        decoded = decode_value(raw, declared, vr=vr, fallbacks=fallbacks)
        assert isinstance(decoded.text, str)
        assert decoded.declared == "\\".join(declared)
        assert decoded.charset
        assert isinstance(encode_utf8(decoded.text), bytes)
        if raw.isascii() and b"\x1b" not in raw:
            assert not decoded.repaired
