"""pacs.model.charset: decoding per declared Specific Character Set, and mojibake repair."""

from __future__ import annotations

import attrs
import pytest

from pacs.model.charset import Decoded, decode_value, encode_utf8, parse_declared
from tests.unit.charset_cases import (
    CHINESE_NAMES,
    LATIN1_NAMES,
    LATIN_SETS,
    SINGLE_BYTE,
    _no_pydicom_log,  # noqa: F401 (autouse fixture)
)

pytestmark = [  # no warning may leak from decoding (pydicom warns with UserWarning)
    pytest.mark.filterwarnings("error::UserWarning"),
    pytest.mark.filterwarnings("error::DeprecationWarning"),
]

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
