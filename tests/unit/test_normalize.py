"""pacs.model.normalize: normalised search forms for the index."""

from __future__ import annotations

import datetime

import pytest

from pacs.model.normalize import (
    normalize_pn,
    normalize_tm,
    parse_da,
    parse_ds,
    parse_is,
    split_multi,
)

# -- normalize_pn ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        ("   ", ""),
        ("Doe^John", "DOE^JOHN"),
        ("Doe^John^^^", "DOE^JOHN"),
        ("doe^john", "DOE^JOHN"),
        (" Doe ^ John ", "DOE^JOHN"),
        ("Doe^John^^^=", "DOE^JOHN"),
        ("Doe^John===", "DOE^JOHN"),
        ("Doe^^Mr", "DOE^^MR"),
        ("^John", "^JOHN"),
        ("van  der   Berg^Jan", "VAN DER BERG^JAN"),
        ("Van\tder Berg^Jan", "VAN DER BERG^JAN"),
        ("Müller^Jürgen", "MULLER^JURGEN"),
        ("José^Ñúñez", "JOSE^NUNEZ"),
        ("Zoë", "ZOE"),
        ("Dvořák^Antonín", "DVORAK^ANTONIN"),
        ("Strauß", "STRAUSS"),
        ("Ærøskøbing", "ÆRØSKØBING"),  # no decomposition: letters, not accents
        ("\uff2a\uff4f\uff48\uff4e^\uff24\uff4f\uff45", "JOHN^DOE"),  # fullwidth Latin folded
        ("张三", "张三"),
        ("欧阳^娜娜", "欧阳^娜娜"),
        ("张　三", "张 三"),  # ideographic space is a space
        ("Yamada^Tarou=山田^太郎=やまだ^たろう", "YAMADA^TAROU=山田^太郎=やまだ^たろう"),
        ("ﾔﾏﾀﾞ^ﾀﾛｳ", "ヤマダ^タロウ"),  # half-width katakana width-folded, dakuten kept
        ("Hong^Gildong=洪^吉洞=홍^길동", "HONG^GILDONG=洪^吉洞=홍^길동"),
        ("がぎ^ぱ", "がぎ^ぱ"),  # voiced kana keep their marks
        ("=山田^太郎", "=山田^太郎"),
        ("Doe^John=^=", "DOE^JOHN"),
    ],
)
def test_normalize_pn(text: str, expected: str) -> None:
    assert normalize_pn(text) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Doe^John^^^", "DOE^JOHN"),
        ("müller", "MULLER"),
        ("\uff2dü\uff4c\uff4c\uff45\uff52", "muller"),
        ("e\u0301", "é"),
        ("DOE ^JOHN", "doe^ john  "),
    ],
)
def test_normalize_pn_equivalences(a: str, b: str) -> None:
    assert normalize_pn(a) == normalize_pn(b)


def test_normalize_pn_is_idempotent() -> None:
    for text in ["Müller^Jürgen^^", "ﾔﾏﾀﾞ^ﾀﾛｳ", "Hong^Gildong=洪^吉洞=홍^길동", " a  b ^ c "]:
        once = normalize_pn(text)
        assert normalize_pn(once) == once


# -- parse_da ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20240131", datetime.date(2024, 1, 31)),
        (" 20240131 ", datetime.date(2024, 1, 31)),
        ("20240229", datetime.date(2024, 2, 29)),
        ("2024.01.31", datetime.date(2024, 1, 31)),
        ("19000101", datetime.date(1900, 1, 1)),
        ("20240131\x00", datetime.date(2024, 1, 31)),
        (None, None),
        ("", None),
        ("   ", None),
        ("20230229", None),
        ("20241301", None),
        ("20240132", None),
        ("00000000", None),
        ("2024013", None),
        ("202401311", None),
        ("2024-01-31", None),
        ("2024.0131", None),
        ("202401.31", None),
        ("2024013a", None),
        ("20240131-20240201", None),
        ("\uff12\uff10\uff12\uff14\uff10\uff11\uff13\uff11", None),  # fullwidth digits are not DA
        ("٢٠٢٤٠١٣١", None),
    ],
)
def test_parse_da(value: str | None, expected: datetime.date | None) -> None:
    assert parse_da(value) == expected


# -- normalize_tm ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("14", "140000"),
        ("1430", "143000"),
        ("143015", "143015"),
        ("143015.1", "143015.1"),
        ("143015.123456", "143015.123456"),
        ("000000", "000000"),
        ("235959.999999", "235959.999999"),
        ("235960", "235960"),  # leap second, allowed by PS3.5
        (" 143015 ", "143015"),
        ("143015.5 ", "143015.5"),
        ("14:30:15", "143015"),
        ("14:30", "143000"),
        ("14:30:15.25", "143015.25"),
        (None, None),
        ("", None),
        ("  ", None),
        ("25", None),
        ("2400", None),
        ("1460", None),
        ("143061", None),
        ("1", None),
        ("143", None),
        ("14301", None),
        ("143015.", None),
        ("143015.1234567", None),
        ("1430.5", None),
        ("14.5", None),
        ("14:3015", None),
        ("14:30:1", None),
        ("ab", None),
        ("-1", None),
        ("\uff11\uff14\uff13\uff10", None),
    ],
)
def test_normalize_tm(value: str | None, expected: str | None) -> None:
    assert normalize_tm(value) == expected


# -- parse_is / parse_ds -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0),
        ("42", 42),
        (" 42 ", 42),
        ("+42", 42),
        ("-42", -42),
        ("007", 7),
        ("42\x00", 42),
        ("2147483647", 2147483647),
        ("-9223372036854775808", -9223372036854775808),
        ("9223372036854775808", None),
        (None, None),
        ("", None),
        ("  ", None),
        ("+", None),
        ("4 2", None),
        ("4.0", None),
        ("1e3", None),
        ("0x10", None),
        ("42\\43", None),
        ("\uff11\uff12", None),
        ("--1", None),
    ],
)
def test_parse_is(value: str | None, expected: int | None) -> None:
    assert parse_is(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        ("1.5", 1.5),
        (" -1.5 ", -1.5),
        ("+.5", 0.5),
        ("5.", 5.0),
        ("1e3", 1000.0),
        ("1.25E-2", 0.0125),
        ("-0.000001", -0.000001),
        ("42", 42.0),
        ("3.14\x00", 3.14),
        (None, None),
        ("", None),
        (".", None),
        ("e5", None),
        ("1e", None),
        ("nan", None),
        ("NaN", None),
        ("inf", None),
        ("-Infinity", None),
        ("1e999", None),
        ("1.5.2", None),
        ("1,5", None),
        ("1 5", None),
        ("0x1p3", None),
        ("1_000", None),
        ("1.0\\2.0", None),
    ],
)
def test_parse_ds(value: str | None, expected: float | None) -> None:
    assert parse_ds(value) == expected


# -- split_multi -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ()),
        ("", ()),
        ("  ", ()),
        ("\\", ()),
        ("CT", ("CT",)),
        ("CT\\MR", ("CT", "MR")),
        (" CT \\ MR ", ("CT", "MR")),
        ("CT\\\\MR\\", ("CT", "MR")),
        ("ORIGINAL\\PRIMARY\\AXIAL", ("ORIGINAL", "PRIMARY", "AXIAL")),
        ("1.2.3\x00", ("1.2.3",)),
        ("张三\\李四", ("张三", "李四")),
        ("a b\\c", ("a b", "c")),
    ],
)
def test_split_multi(value: str | None, expected: tuple[str, ...]) -> None:
    assert split_multi(value) == expected
