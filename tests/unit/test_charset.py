"""pacs.model.charset: decoding per declared Specific Character Set, and mojibake repair."""

from __future__ import annotations

import logging
import random

import attrs
import pytest
from pydicom.charset import convert_encodings
from pydicom.valuerep import PersonName

from pacs.model.charset import Decoded, decode_value, encode_utf8, parse_declared

pytestmark = pytest.mark.filterwarnings("error")  # no warning may leak from decoding

CHINESE_NAMES = ["张三", "王小明", "欧阳娜娜", "李^四", "欧阳^娜娜", "司马^相如", "张三\\李四"]
LATIN1_NAMES = [
    "Müller",
    "José",
    "Zoë",
    "Ærøskøbing",
    "Ñúñez",
    "Conceição",
    "François^Bâton",
    "Gonçalves",
    "Hernández",
    "Ødegård",
    "Strauß",
    "Jürgen",
    "Çelik^Aylin",
]
LATIN_SETS = [
    (),
    ("",),
    ("ISO_IR 6",),
    ("ISO_IR 100",),
    ("ISO_IR 101",),
    ("ISO_IR 109",),
    ("ISO_IR 110",),
    ("ISO_IR 148",),
    ("ISO_IR 203",),
    ("ISO 2022 IR 100",),
    ("ISO 2022 IR 6", "ISO 2022 IR 100"),
]
SINGLE_BYTE = [
    *LATIN_SETS,
    ("ISO_IR 144",),
    ("ISO_IR 126",),
    ("ISO_IR 127",),
    ("ISO_IR 138",),
    ("ISO_IR 166",),
]

# PS3.5 Annex H.3.1 (ISO 2022 IR 87) and H.3.2 (ISO 2022 IR 13 + ISO 2022 IR 87)
JAPANESE = "Yamada^Tarou=山田^太郎=やまだ^たろう"
JAPANESE_H31 = (
    b"Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B"
)
JAPANESE_H32 = (
    b"\xd4\xcf\xc0\xde^\xc0\xdb\xb3=\x1b$B;3ED\x1b(J^\x1b$BB@O:\x1b(J="
    b"\x1b$B$d$^$@\x1b(J^\x1b$B$?$m$&\x1b(J"
)
# PS3.5 Annex I.2 (ISO 2022 IR 149): ESC $ ) C designates KS X 1001 to G1, bytes are EUC-KR
KOREAN = "Hong^Gildong=洪^吉洞=홍^길동"
KOREAN_I2 = (
    b"Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7=\x1b$)C\xc8\xab^\x1b$)C\xb1\xe6\xb5\xbf"
)


def iso2022_jp_pn(name: str) -> bytes:
    """Each component group encoded separately with Python's iso2022_jp codec."""
    return b"=".join(group.encode("iso2022_jp") for group in name.split("="))


def pydicom_pn(raw: bytes, declared: list[str]) -> str:
    """What pydicom itself makes of a valid PN value (the oracle for code extensions)."""
    return str(PersonName(raw).decode(convert_encodings(declared)))


@pytest.fixture(autouse=True)
def _no_pydicom_log(caplog: pytest.LogCaptureFixture) -> object:
    caplog.set_level(logging.DEBUG, logger="pydicom")
    yield None
    assert not [r for r in caplog.records if r.name.startswith("pydicom")]


# -- parse_declared ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ()),
        (b"", ()),
        ("", ()),
        (b" ", ()),
        (b"\\", ()),
        (b"ISO_IR 100", ("ISO_IR 100",)),
        (b"ISO_IR 100 ", ("ISO_IR 100",)),
        (b"ISO_IR 192\x00", ("ISO_IR 192",)),
        ("GB18030", ("GB18030",)),
        (b"\\ISO 2022 IR 87", ("", "ISO 2022 IR 87")),
        (b"\\ISO 2022 IR 149 ", ("", "ISO 2022 IR 149")),
        (b"ISO 2022 IR 13\\ISO 2022 IR 87", ("ISO 2022 IR 13", "ISO 2022 IR 87")),
        (b"ISO 2022 IR 6\\ISO 2022 IR 100\\", ("ISO 2022 IR 6", "ISO 2022 IR 100")),
        (b" ISO_IR 100 \\ ISO 2022 IR 87 ", ("ISO_IR 100", "ISO 2022 IR 87")),
    ],
)
def test_parse_declared(raw: bytes | str | None, expected: tuple[str, ...]) -> None:
    assert parse_declared(raw) == expected


# -- encode_utf8 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["", "张三", "Müller ", " 欧阳^娜娜", "Hong^Gildong=洪^吉洞=홍^길동"]
)
def test_encode_utf8_strips_nothing(text: str) -> None:
    assert encode_utf8(text) == text.encode("utf-8")
    assert encode_utf8(text).decode("utf-8") == text


def test_encode_utf8_lone_surrogate_never_raises() -> None:
    assert encode_utf8("a\ud800b") == b"a?b"


# -- Decoded ----------------------------------------------------------------------------------


def test_decoded_is_frozen_and_keyword_only() -> None:
    decoded = Decoded(text="x", charset="ISO_IR 6", repaired=False, declared="")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        decoded.text = "y"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Decoded("x", "ISO_IR 6", False, "")  # type: ignore[call-arg]


# -- pure ASCII -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declared", "charset"),
    [
        ((), "ISO_IR 6"),
        (("",), "ISO_IR 6"),
        (("ISO_IR 6",), "ISO_IR 6"),
        (("ISO_IR 100",), "ISO_IR 100"),
        (("ISO_IR 192",), "ISO_IR 192"),
        (("GB18030",), "GB18030"),
        (("GBK",), "GBK"),
        (("", "ISO 2022 IR 87"), "ISO 2022 IR 87"),
        (("ISO 2022 IR 13", "ISO 2022 IR 87"), "ISO 2022 IR 13\\ISO 2022 IR 87"),
        (("", "ISO 2022 IR 149"), "ISO 2022 IR 149"),
    ],
)
@pytest.mark.parametrize("vr", ["PN", "LO", "SH", "ST", "LT", "UT", "UC"])
@pytest.mark.parametrize("raw", [b"", b"Doe^John", b"CT CHEST\\ABDOMEN", b"A=B^C "])
def test_ascii_keeps_declared(declared: tuple[str, ...], charset: str, vr: str, raw: bytes) -> None:
    decoded = decode_value(raw, declared, vr=vr)
    assert decoded == Decoded(
        text=raw.decode("ascii"), charset=charset, repaired=False, declared="\\".join(declared)
    )


# -- GB18030 / GBK bytes under wrong or missing declarations ----------------------------------


@pytest.mark.parametrize("name", CHINESE_NAMES)
@pytest.mark.parametrize("declared", [*LATIN_SETS, ("ISO_IR 192",), ("", "ISO 2022 IR 87")])
@pytest.mark.parametrize("vr", ["PN", "LO"])
def test_gb18030_bytes_are_repaired(name: str, declared: tuple[str, ...], vr: str) -> None:
    decoded = decode_value(name.encode("gb18030"), declared, vr=vr)
    assert decoded.text == name
    assert decoded.charset == "GB18030"
    assert decoded.repaired is True
    assert decoded.declared == "\\".join(declared)


@pytest.mark.parametrize(
    "name", [*CHINESE_NAMES, "王喆", "CT胸部平扫", "头颅MR\uff08增强\uff09", "阿卜杜拉·买买提"]
)
@pytest.mark.parametrize(
    ("declared", "codec"),
    [(("GBK",), "gbk"), (("GB18030",), "gb18030"), (("ISO 2022 GBK",), "gbk")],
)
def test_correctly_declared_chinese_is_kept(
    name: str, declared: tuple[str, ...], codec: str
) -> None:
    decoded = decode_value(name.encode(codec), declared, vr="LO")
    assert decoded == Decoded(text=name, charset=declared[0], repaired=False, declared=declared[0])


@pytest.mark.parametrize(
    "name", ["CT胸部平扫", "头颅MR\uff08增强\uff09", "阿卜杜拉·买买提", "“张三”…", "张　三"]
)
def test_chinese_descriptions_with_latin_and_punctuation_are_repaired(name: str) -> None:
    decoded = decode_value(name.encode("gb18030"), ("ISO_IR 100",), vr="LO")
    assert (decoded.text, decoded.charset, decoded.repaired) == (name, "GB18030", True)


def test_gbk_trail_byte_backslash_is_not_a_value_delimiter() -> None:
    raw = "丂".encode("gbk") + "\\张三".encode("gbk")  # 丂 is 0x81 0x40; 0x5C trail bytes exist too
    assert decode_value(raw, ("GBK",), vr="LO").text == "丂\\张三"
    kept = "乗".encode("gbk")  # 0x81 0x5C: its trail byte is a backslash
    assert decode_value(kept, ("GBK",), vr="LO").text == "乗"


def test_rare_hanzi_outside_gb2312_are_not_repaired() -> None:
    # documented limit of the plausibility rule: 喆 is GBK-only, so the bytes stay Latin-1
    decoded = decode_value("王喆".encode("gb18030"), ("ISO_IR 100",), vr="PN")
    assert decoded.repaired is False
    assert decoded.charset == "ISO_IR 100"


# -- UTF-8 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [*CHINESE_NAMES, "Müller", "José", "홍길동", "山田^太郎", "Ωμέγα"])
@pytest.mark.parametrize("declared", SINGLE_BYTE)
def test_utf8_mislabelled_single_byte_is_repaired(text: str, declared: tuple[str, ...]) -> None:
    decoded = decode_value(text.encode("utf-8"), declared, vr="LO")
    assert (decoded.text, decoded.charset, decoded.repaired) == (text, "ISO_IR 192", True)


@pytest.mark.parametrize(
    "text", [*CHINESE_NAMES, "Müller", "홍길동", "Hong^Gildong=洪^吉洞=홍^길동"]
)
def test_valid_utf8_declared_utf8_is_kept(text: str) -> None:
    decoded = decode_value(text.encode("utf-8"), ("ISO_IR 192",), vr="PN")
    assert decoded == Decoded(
        text=text, charset="ISO_IR 192", repaired=False, declared="ISO_IR 192"
    )


@pytest.mark.parametrize("name", ["张三", "王小明", "欧阳娜娜"])
def test_declared_utf8_with_gb18030_bytes_is_repaired(name: str) -> None:
    raw = name.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    decoded = decode_value(raw, ("ISO_IR 192",), vr="PN")
    assert decoded == Decoded(text=name, charset="GB18030", repaired=True, declared="ISO_IR 192")


@pytest.mark.parametrize(
    "raw", [b"M\xfcller", b"\xff\xfe", b"abc\x80", "Conceição".encode("latin-1")]
)
def test_declared_utf8_invalid_and_implausible_uses_replacement(raw: bytes) -> None:
    decoded = decode_value(raw, ("ISO_IR 192",), vr="LO")
    assert decoded.text == raw.decode("utf-8", errors="replace")
    assert "\ufffd" in decoded.text
    assert (decoded.charset, decoded.repaired) == ("ISO_IR 192", False)


def test_gbk_declared_but_utf8_bytes_are_repaired() -> None:
    raw = "€".encode()  # 0xE2 0x82 0xAC: truncated GBK
    decoded = decode_value(raw, ("GBK",), vr="LO")
    assert (decoded.text, decoded.charset, decoded.repaired) == ("€", "ISO_IR 192", True)


def test_declared_multibyte_invalid_everywhere_is_lenient() -> None:
    decoded = decode_value(b"\x80\xff", ("GB18030",), vr="LO")
    assert (decoded.charset, decoded.repaired) == ("GB18030", False)
    assert "\ufffd" in decoded.text


# -- Latin-1 must not be "repaired" ------------------------------------------------------------


@pytest.mark.parametrize("name", LATIN1_NAMES)
@pytest.mark.parametrize("vr", ["PN", "LO"])
def test_latin1_names_are_not_repaired(name: str, vr: str) -> None:
    decoded = decode_value(name.encode("latin-1"), ("ISO_IR 100",), vr=vr)
    assert decoded == Decoded(
        text=name, charset="ISO_IR 100", repaired=False, declared="ISO_IR 100"
    )


@pytest.mark.parametrize("name", LATIN1_NAMES)
def test_latin1_names_undeclared_decode_like_pydicom(name: str) -> None:
    # ISO_IR 6 is ASCII; pydicom reads stray high bytes as Latin-1 and so do we (not a repair)
    decoded = decode_value(name.encode("latin-1"), (), vr="PN")
    assert decoded == Decoded(text=name, charset="ISO_IR 6", repaired=False, declared="")


@pytest.mark.parametrize(
    ("text", "declared", "codec"),
    [
        ("Dvořák", "ISO_IR 101", "iso8859_2"),
        ("Иванов^Иван", "ISO_IR 144", "iso8859_5"),
        ("Öztürk^Ayşe", "ISO_IR 148", "iso8859_9"),
        ("Παπαδόπουλος", "ISO_IR 126", "iso8859_7"),
    ],
)
def test_other_single_byte_sets_are_kept(text: str, declared: str, codec: str) -> None:
    decoded = decode_value(text.encode(codec), (declared,), vr="PN")
    assert (decoded.text, decoded.charset, decoded.repaired) == (text, declared, False)


def test_latin9_is_supported() -> None:
    decoded = decode_value("Œuvre 10€".encode("iso8859_15"), ("ISO_IR 203",), vr="LO")
    assert (decoded.text, decoded.charset, decoded.repaired) == ("Œuvre 10€", "ISO_IR 203", False)


@pytest.mark.parametrize("declared", ["ISO_IR 144", "ISO_IR 126", "ISO_IR 127", "ISO_IR 138"])
def test_gb18030_under_non_latin_single_byte_sets_is_not_repaired(declared: str) -> None:
    # their letters fill 0xA1-0xFE, which reads as GB2312 hanzi: the declaration is trusted
    raw = "王小明".encode("gb18030")
    decoded = decode_value(raw, (declared,), vr="PN")
    assert (decoded.charset, decoded.repaired) == (declared, False)


@pytest.mark.parametrize("name", ["寻", "李^四", "张三", "寻^寻"])
def test_gb18030_bytes_that_are_also_valid_utf8_prefer_gb18030(name: str) -> None:
    raw = name.encode("gb18030")
    decoded = decode_value(raw, ("ISO_IR 100",), vr="PN")
    assert (decoded.text, decoded.charset, decoded.repaired) == (name, "GB18030", True)


@pytest.mark.parametrize("name", ["José", "Zoë^Anne", "Café"])
def test_utf8_latin_words_that_are_also_plausible_gb_prefer_utf8(name: str) -> None:
    raw = name.encode("utf-8")
    assert raw.decode("gb18030")  # also a valid GB18030 reading ("Jos茅")
    decoded = decode_value(raw, ("ISO_IR 100",), vr="PN")
    assert (decoded.text, decoded.charset, decoded.repaired) == (name, "ISO_IR 192", True)


def test_latin_letter_sandwich_is_not_chinese() -> None:
    raw = "Conceição".encode("latin-1")
    assert raw.decode("gb18030") == "Concei玢o"  # valid GB18030, GB2312 hanzi: the trap
    assert decode_value(raw, ("ISO_IR 100",)).text == "Conceição"


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
