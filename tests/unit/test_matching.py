"""pacs.model.matching: C-FIND keys parsed into conditions and matched against stored values."""

from __future__ import annotations

import datetime as dt

import pytest

from pacs.errors import PacsError, QueryError
from pacs.model.matching import (
    AnyOf,
    Condition,
    Empty,
    Range,
    Single,
    UidList,
    Universal,
    Wildcard,
    combine_date_time,
    date_bounds,
    datetime_bounds,
    matches,
    matches_date_time,
    parse_key,
    pn_groups,
    time_bounds,
    wildcard_regex,
)

UTC = dt.UTC
EST = dt.timezone(-dt.timedelta(hours=5))

# -- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vr", "value", "expected"),
    [
        # universal: absent, empty, padding, "*" alone for any VR
        ("PN", None, Universal()),
        ("PN", "", Universal()),
        ("LO", "   ", Universal()),
        ("CS", "\x00", Universal()),
        ("LO", "*", Universal()),
        ("LO", "***", Universal()),
        ("DA", "*", Universal()),
        ("TM", "*", Universal()),
        ("UI", "*", Universal()),
        ("IS", "*", Universal()),
        ("PN", "*=*", Universal()),
        ("PN", "*=*=*", Universal()),
        ("PN", "^", Universal()),
        ("PN", "=", Universal()),
        ("PN", "*^", Universal()),
        ("LO", [], Universal()),
        # empty value matching
        ("PN", '""', Empty()),
        ("DA", '""', Empty()),
        ("LO", ' "" ', Empty()),
        # single values, padding stripped, case kept
        ("CS", "CT", Single("CT")),
        ("CS", " CT ", Single("CT")),
        ("CS", "ct", Single("ct")),
        ("LO", "12-34", Single("12-34")),  # "-" is text outside DA/TM/DT
        ("SH", "A%_!", Single("A%_!")),
        ("PN", "Doe^John", Single("Doe^John")),
        ("PN", "Wang^Xiaoming=王^小明", Single("Wang^Xiaoming=王^小明")),
        ("AE", "STORE", Single("STORE")),
        ("AS", "030Y", Single("030Y")),
        ("IS", "5", Single("5")),
        ("IS", "-5", Single("-5")),
        ("IS", "+5", Single("+5")),
        ("DS", "1.75", Single("1.75")),
        ("DS", "-2.5e3", Single("-2.5e3")),
        ("DS", ".5", Single(".5")),
        ("US", "512", Single("512")),
        ("SS", "-3", Single("-3")),
        ("FD", "0.25", Single("0.25")),
        ("ui", "1.2.840.10008", Single("1.2.840.10008")),
        ("LT", "  leading kept", Single("  leading kept")),
        ("LT", "trailing gone   ", Single("trailing gone")),
        ("LT", "a\\b", Single("a\\b")),  # backslash is text in LT/ST/UT/UR
        ("UT", "C:\\dir", Single("C:\\dir")),
        ("ST", "x\\y", Single("x\\y")),
        # wildcards where the VR allows them
        ("PN", "Doe^J*", Wildcard("Doe^J*")),
        ("PN", "王*", Wildcard("王*")),
        ("PN", "*=山田*", Wildcard("*=山田*")),
        ("CS", "C?", Wildcard("C?")),
        ("LO", "*abc", Wildcard("*abc")),
        ("SH", "a?c", Wildcard("a?c")),
        ("AE", "STORE*", Wildcard("STORE*")),
        ("LT", "*note*", Wildcard("*note*")),
        ("ST", "?", Wildcard("?")),
        ("UC", "x*", Wildcard("x*")),
        ("UR", "http://*", Wildcard("http://*")),
        ("UT", "*\\*", Wildcard("*\\*")),
        ("LO", "*-*", Wildcard("*-*")),
        # dates
        ("DA", "20240131", Single("20240131")),
        ("DA", "2024.01.31", Single("20240131")),
        ("DA", "20240101-20240131", Range("20240101", "20240131")),
        ("DA", "20240101 - 20240131", Range("20240101", "20240131")),
        ("DA", "2024.01.01-2024.01.31", Range("20240101", "20240131")),
        ("DA", "-20240131", Range(None, "20240131")),
        ("DA", "20240101-", Range("20240101", None)),
        ("DA", "20240101-20240101", Range("20240101", "20240101")),
        # times, with partial precision, fractions and the legacy colon form
        ("TM", "10", Single("10")),
        ("TM", "1030", Single("1030")),
        ("TM", "103015", Single("103015")),
        ("TM", "103015.123456", Single("103015.123456")),
        ("TM", "10:30", Single("1030")),
        ("TM", "10:30:15.5", Single("103015.5")),
        ("TM", "235960", Single("235960")),
        ("TM", "1000-1800", Range("1000", "1800")),
        ("TM", "10-11", Range("10", "11")),
        ("TM", "-1200", Range(None, "1200")),
        ("TM", "1200-", Range("1200", None)),
        ("TM", "10:00-18:00", Range("1000", "1800")),
        ("TM", "103015.5-103015.6", Range("103015.5", "103015.6")),
        # datetimes, with offsets whose "-" is not a range separator
        ("DT", "2006", Single("2006")),
        ("DT", "20060705103015.5", Single("20060705103015.5")),
        ("DT", "20060705+0100", Single("20060705+0100")),
        ("DT", "20060705-0500", Single("20060705-0500")),
        ("DT", "2006-2007", Range("2006", "2007")),
        ("DT", "200607051000-200607071800", Range("200607051000", "200607071800")),
        ("DT", "20060705-0500-", Range("20060705-0500", None)),
        ("DT", "-20060705-0500", Range(None, "20060705-0500")),
        ("DT", "20060705-0500-20060706+0100", Range("20060705-0500", "20060706+0100")),
        ("DT", "2006-", Range("2006", None)),
        # lists
        ("UI", "1.2.3\\1.2.4", UidList(("1.2.3", "1.2.4"))),
        ("UI", ["1.2.3", "1.2.4"], UidList(("1.2.3", "1.2.4"))),
        ("UI", "1.2.3\\1.2.3", Single("1.2.3")),
        ("UI", " 1.2.3 \\ 1.2.4 ", UidList(("1.2.3", "1.2.4"))),
        ("CS", "CT\\MR", AnyOf(("CT", "MR"))),
        ("CS", ["CT", "MR", "CT"], AnyOf(("CT", "MR"))),
        ("CS", ("CT",), Single("CT")),
        ("IS", "1\\3", AnyOf(("1", "3"))),
        ("PN", "Doe^John\\Roe^Jane", AnyOf(("Doe^John", "Roe^Jane"))),
    ],
)
def test_parse_key(vr: str, value: object, expected: Condition) -> None:
    assert parse_key("Key", vr, value) == expected


@pytest.mark.parametrize(
    ("vr", "value", "message"),
    [
        ("DA", "2024013", "StudyDate: invalid date '2024013'"),
        ("DA", "20241301", "StudyDate: invalid date '20241301'"),
        ("DA", "20230229", "StudyDate: invalid date '20230229'"),
        ("DA", "2024-01-31", "StudyDate: invalid date '2024-01-31'"),
        ("DA", "2024.0131", "StudyDate: invalid date '2024.0131'"),
        ("DA", "20240101-2024013", "StudyDate: invalid date '20240101-2024013'"),
        ("DA", "20240131-20240101", "StudyDate: the range '20240131-20240101' starts after"),
        ("DA", "-", "StudyDate: a range needs a start or an end ('-')"),
        ("DA", " - ", "StudyDate: a range needs a start or an end"),
        ("DA", "2024*", "StudyDate: no wildcard or list is allowed in a date ('2024*')"),
        ("DA", "202401?1", "StudyDate: no wildcard or list is allowed in a date"),
        ("DA", "20240101\\20240102", "StudyDate: no wildcard or list is allowed in a date"),
        ("TM", "25", "StudyDate: invalid time '25'"),
        ("TM", "1060", "StudyDate: invalid time '1060'"),
        ("TM", "103", "StudyDate: invalid time '103'"),
        ("TM", "10.5", "StudyDate: invalid time '10.5'"),
        ("TM", "1030.5", "StudyDate: invalid time '1030.5'"),
        ("TM", "103015.1234567", "StudyDate: invalid time '103015.1234567'"),
        ("TM", "10:3015", "StudyDate: invalid time '10:3015'"),
        ("TM", "1800-1000", "StudyDate: the range '1800-1000' starts after it ends"),
        ("TM", "10*", "StudyDate: no wildcard or list is allowed in a time"),
        ("DT", "200", "StudyDate: invalid datetime '200'"),
        ("DT", "20061", "StudyDate: invalid datetime '20061'"),
        ("DT", "20061301", "StudyDate: invalid datetime '20061301'"),
        ("DT", "2006070510.5", "StudyDate: invalid datetime '2006070510.5'"),
        ("DT", "20060705+1500", "StudyDate: invalid datetime '20060705+1500'"),
        ("DT", "20060705+0160", "StudyDate: invalid datetime '20060705+0160'"),
        ("DT", "20060705-1300", "StudyDate: the range '20060705-1300' starts after it ends"),
        ("DT", "2007-2006", "StudyDate: the range '2007-2006' starts after it ends"),
        ("DT", "2006*", "StudyDate: no wildcard or list is allowed in a datetime"),
        ("UI", "1.2.*", "StudyDate: wildcards are not allowed for VR UI ('1.2.*')"),
        ("UI", "1.2.3?", "StudyDate: wildcards are not allowed for VR UI"),
        ("UI", "1.2.a", "StudyDate: invalid UID '1.2.a'"),
        ("UI", "1..2", "StudyDate: invalid UID '1..2'"),
        ("UI", "1.2\\\\1.3", "StudyDate: invalid UID ''"),
        ("UI", "1." + "2" * 63, "StudyDate: invalid UID"),
        ("UI", "1.2-1.3", "StudyDate: invalid UID '1.2-1.3'"),
        ("IS", "1-5", "StudyDate: range matching is only defined for DA, TM and DT, not IS"),
        ("DS", "1.5-2.5", "StudyDate: range matching is only defined for DA, TM and DT, not DS"),
        ("AS", "030Y-040Y", "StudyDate: range matching is only defined for DA, TM and DT, not AS"),
        ("IS", "x", "StudyDate: invalid IS value 'x'"),
        ("IS", "1.5", "StudyDate: invalid IS value '1.5'"),
        ("US", "-1", "StudyDate: invalid US value '-1'"),
        ("DS", "1,5", "StudyDate: invalid DS value '1,5'"),
        ("AS", "30Y", "StudyDate: invalid AS value '30Y'"),
        ("IS", "1*", "StudyDate: wildcards are not allowed for VR IS ('1*')"),
        ("DS", "?", "StudyDate: wildcards are not allowed for VR DS"),
        ("AS", "03?Y", "StudyDate: wildcards are not allowed for VR AS"),
        ("FD", "1*", "StudyDate: wildcards are not allowed for VR FD"),
        ("IS", "1\\x", "StudyDate: invalid IS value 'x'"),
        ("IS", "1\\2-3", "StudyDate: range matching is only defined"),
        ("CS", "CT\\M*", "StudyDate: wildcards cannot be combined with several values"),
        ("CS", "CT\\\\MR", "StudyDate: empty value in the list 'CT\\\\\\\\MR'"),
        ("CS", "CT\\", "StudyDate: empty value in the list"),
        ("PN", "a=b=c=d", "StudyDate: a person name has at most 3 groups ('a=b=c=d')"),
        ("OB", "1", "StudyDate: matching on VR OB is not supported"),
        ("SQ", "x", "StudyDate: matching on VR SQ is not supported"),
        ("AT", "00100010", "StudyDate: matching on VR AT is not supported"),
    ],
)
def test_parse_errors_name_the_attribute(vr: str, value: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_key("StudyDate", vr, value)
    assert caught.value.message.startswith(message), caught.value.message


def test_query_error_is_answered_as_a_bad_identifier() -> None:
    error = QueryError("PatientName: nonsense")
    assert isinstance(error, PacsError)
    assert error.dimse_status == 0xA900
    assert error.http_status == 400
    assert str(error) == "PatientName: nonsense"


def test_universal_keys_of_unsupported_vrs_are_accepted() -> None:
    """An empty key only asks for the value back: no VR restriction applies."""
    assert parse_key("PixelData", "OB", "") == Universal()
    assert parse_key("Sequence", "SQ", None) == Universal()


# -- bounds ----------------------------------------------------------------------------------

HOUR, MINUTE, SECOND = 3_600_000_000, 60_000_000, 1_000_000


@pytest.mark.parametrize(
    ("value", "low", "high"),
    [
        ("10", 10 * HOUR, 11 * HOUR - 1),
        ("1030", 10 * HOUR + 30 * MINUTE, 10 * HOUR + 31 * MINUTE - 1),
        (
            "103015",
            10 * HOUR + 30 * MINUTE + 15 * SECOND,
            10 * HOUR + 30 * MINUTE + 16 * SECOND - 1,
        ),
        ("103015.5", 37_815_500_000, 37_815_599_999),
        ("103015.123456", 37_815_123_456, 37_815_123_456),
        ("000000", 0, SECOND - 1),
        ("10-11", 10 * HOUR, 12 * HOUR - 1),
        ("-0930", None, 9 * HOUR + 31 * MINUTE - 1),
        ("0930-", 9 * HOUR + 30 * MINUTE, None),
        ("235960", 24 * HOUR, 24 * HOUR + SECOND - 1),  # a leap second sorts after 23:59:59
    ],
)
def test_time_bounds(value: str, low: int | None, high: int | None) -> None:
    assert time_bounds(parse_key("StudyTime", "TM", value)) == (low, high)


@pytest.mark.parametrize(
    ("value", "low", "high"),
    [
        ("2006", dt.datetime(2006, 1, 1), dt.datetime(2006, 12, 31, 23, 59, 59, 999999)),
        ("200602", dt.datetime(2006, 2, 1), dt.datetime(2006, 2, 28, 23, 59, 59, 999999)),
        ("200612", dt.datetime(2006, 12, 1), dt.datetime(2006, 12, 31, 23, 59, 59, 999999)),
        ("20060705", dt.datetime(2006, 7, 5), dt.datetime(2006, 7, 5, 23, 59, 59, 999999)),
        ("2006070510", dt.datetime(2006, 7, 5, 10), dt.datetime(2006, 7, 5, 10, 59, 59, 999999)),
        (
            "200607051030",
            dt.datetime(2006, 7, 5, 10, 30),
            dt.datetime(2006, 7, 5, 10, 30, 59, 999999),
        ),
        (
            "20060705103015.25",
            dt.datetime(2006, 7, 5, 10, 30, 15, 250000),
            dt.datetime(2006, 7, 5, 10, 30, 15, 259999),
        ),
        (
            "20060705+0000",
            dt.datetime(2006, 7, 5, tzinfo=UTC),
            dt.datetime(2006, 7, 5, 23, 59, 59, 999999, tzinfo=UTC),
        ),
        ("2006-", dt.datetime(2006, 1, 1), None),
        ("-2006", None, dt.datetime(2006, 12, 31, 23, 59, 59, 999999)),
        (
            "20060705-0500-20060706",
            dt.datetime(2006, 7, 5, tzinfo=EST),
            dt.datetime(2006, 7, 6, 23, 59, 59, 999999),
        ),
    ],
)
def test_datetime_bounds(value: str, low: dt.datetime | None, high: dt.datetime | None) -> None:
    assert datetime_bounds(parse_key("AcquisitionDateTime", "DT", value)) == (low, high)


def test_date_bounds() -> None:
    jan1, jan31 = dt.date(2024, 1, 1), dt.date(2024, 1, 31)
    assert date_bounds(parse_key("StudyDate", "DA", "20240101-20240131")) == (jan1, jan31)
    assert date_bounds(parse_key("StudyDate", "DA", "20240101")) == (jan1, jan1)
    assert date_bounds(parse_key("StudyDate", "DA", "-20240131")) == (None, jan31)
    assert date_bounds(parse_key("StudyDate", "DA", "2024.01.01-")) == (jan1, None)
    with pytest.raises(ValueError, match="has no bounds"):
        date_bounds(Universal())


# -- matching by VR --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vr", "key", "stored", "expected"),
    [
        # text: exact and case-sensitive, padding insignificant
        ("CS", "CT", "CT", True),
        ("CS", "CT", "MR", False),
        ("CS", "CT", "ct", False),
        ("CS", "CT", " CT ", True),
        ("LO", "12-34", "12-34", True),
        ("LO", "abc", "abcd", False),
        ("SH", "A%1", "A%1", True),
        ("SH", "A%1", "AB1", False),
        ("LT", "note", "note  ", True),
        ("LT", "a\\b", "a\\b", True),
        # wildcards
        ("LO", "ab*", "abc", True),
        ("LO", "ab*", "ab", True),
        ("LO", "ab*", "xab", False),
        ("LO", "*ab", "xab", True),
        ("LO", "a*b", "a\nb", True),
        ("LO", "a?c", "abc", True),
        ("LO", "a?c", "ac", False),
        ("LO", "a?c", "abbc", False),
        ("LO", "a?c", "aÜc", True),  # one character, not one byte
        ("LO", "A.*", "A.B", True),
        ("LO", "A.*", "AxB", False),  # regex characters are literal
        ("LO", "A%*", "A%1", True),
        ("LO", "A%*", "AB1", False),
        ("LO", "A_?", "A_1", True),
        ("LO", "A_?", "AB1", False),
        ("LO", "a*", "ABC", False),
        ("CS", "C?", "CT", True),
        ("CS", "C?", "CTX", False),
        ("AE", "STORE*", "STORESCP", True),
        ("ST", "*\\*", "a\\b", True),
        # multi-valued stored values: any value
        ("CS", "MR", ["CT", "MR"], True),
        ("CS", "MR", ("CT", "MRX"), False),
        ("CS", "M*", ["CT", "MRX"], True),
        ("CS", "CT\\MR", ["SR", "MR"], True),
        ("CS", "CT\\MR", ["SR", "XA"], False),
        ("CS", "CT\\MR", "MR", True),
        ("CS", "CT\\MR", "MRX", False),
        # UIDs
        ("UI", "1.2.3", "1.2.3", True),
        ("UI", "1.2.3", "1.2.30", False),
        ("UI", "1.2.3\\1.2.4", "1.2.4", True),
        ("UI", "1.2.3\\1.2.4", "1.2.5", False),
        # numbers compare as numbers
        ("IS", "5", 5, True),
        ("IS", "5", "05", True),
        ("IS", "+5", 5, True),
        ("IS", "5", 6, False),
        ("IS", "5", "x", False),
        ("IS", "1\\3", 3, True),
        ("IS", "1\\3", 2, False),
        ("DS", "1.75", 1.75, True),
        ("DS", "1.75", "1.750", True),
        ("DS", "1.75", 1.7, False),
        ("US", "512", 512, True),
        ("AS", "030Y", "030Y", True),
        ("AS", "030Y", "030M", False),
        # dates: date objects or DA text (legacy too)
        ("DA", "20240115", dt.date(2024, 1, 15), True),
        ("DA", "20240115", dt.date(2024, 1, 16), False),
        ("DA", "20240115", "20240115", True),
        ("DA", "20240115", "2024.01.15", True),
        ("DA", "2024.01.15", dt.date(2024, 1, 15), True),
        ("DA", "20240101-20240131", dt.date(2024, 1, 1), True),
        ("DA", "20240101-20240131", dt.date(2024, 1, 31), True),
        ("DA", "20240101-20240131", dt.date(2023, 12, 31), False),
        ("DA", "20240101-20240131", dt.date(2024, 2, 1), False),
        ("DA", "-20240131", dt.date(1900, 1, 1), True),
        ("DA", "-20240131", dt.date(2024, 2, 1), False),
        ("DA", "20240101-", dt.date(2999, 1, 1), True),
        ("DA", "20240101-", dt.date(2023, 12, 31), False),
        ("DA", "20240101-", "garbage", False),
        # times: a partial key covers its span, a stored value is a point
        ("TM", "10", "100000", True),
        ("TM", "10", "105959.999999", True),
        ("TM", "10", "110000", False),
        ("TM", "10", "095959.999999", False),
        ("TM", "1030", "103000", True),
        ("TM", "1030", "103059.9", True),
        ("TM", "1030", "1030", True),
        ("TM", "1030", "1031", False),
        ("TM", "103015", "103015.5", True),
        ("TM", "103015.5", "103015.5", True),
        ("TM", "103015.5", "103015.59", True),
        ("TM", "103015.5", "103015.6", False),
        ("TM", "103015.5", "103015.49", False),
        ("TM", "10:30", "10:30:15", True),
        ("TM", "1000-1800", "100000", True),
        ("TM", "1000-1800", "180059.999999", True),
        ("TM", "1000-1800", "180100", False),
        ("TM", "1000-1800", "095959", False),
        ("TM", "-1200", "000000", True),
        ("TM", "-1200", "120000.5", True),
        ("TM", "-1200", "120100", False),
        ("TM", "1200-", "235959.999999", True),
        ("TM", "1200-", "115959.999999", False),
        ("TM", "120000.5-", "120000.5", True),
        ("TM", "120000.5-", "120000.4999", False),
        ("TM", "1000-1800", "nonsense", False),
        # datetimes: spans, open ends, offsets
        ("DT", "2006", "20060705103000", True),
        ("DT", "2006", "20070101", False),
        ("DT", "20060705", "2006070523", True),
        ("DT", "20060705-20060706", "20060706235959.999999", True),
        ("DT", "20060705-20060706", "20060707", False),
        ("DT", "200607051000-", "2006070510", True),
        ("DT", "200607051000-", "20060705", False),  # a stored value is its start
        ("DT", "-2006070518", "20060705185959", True),
        ("DT", "-2006070518", "2006070519", False),
        ("DT", "20060705120000+0000", "20060705070000-0500", True),  # same instant
        ("DT", "20060705120000+0000", "20060705120000-0500", False),
        ("DT", "20060705120000+0000-", "20060705080000-0500", True),
        ("DT", "-20060705120000+0000", "20060705080000-0500", False),
        ("DT", "20060705120000", "20060705120000-0500", True),  # one offset: wall clock
        ("DT", "20060705120000+0100", "20060705120000", True),
        ("DT", "2006", "bad", False),
    ],
)
def test_matches(vr: str, key: str, stored: object, expected: bool) -> None:
    assert matches(parse_key("Key", vr, key), stored, vr=vr) is expected


# -- empty stored values ---------------------------------------------------------------------

EMPTY_STORED = [None, "", "  ", "\x00", [], (), [""], ["", " "]]


@pytest.mark.parametrize("stored", EMPTY_STORED)
@pytest.mark.parametrize(
    ("vr", "key", "expected"),
    [
        ("PN", "", True),
        ("PN", "*", True),  # "*" is Universal, which the standard lets match unknown values
        ("PN", '""', True),
        ("PN", "Doe", False),
        ("PN", "D*", False),
        ("PN", "?*", False),
        ("LO", "*?", False),
        ("CS", "CT\\MR", False),
        ("UI", "1.2.3", False),
        ("UI", "1.2.3\\1.2.4", False),
        ("DA", "20240101", False),
        ("DA", "-20240101", False),
        ("DA", "20240101-", False),
        ("TM", "10-", False),
        ("DT", "2006-", False),
        ("IS", "0", False),
    ],
)
def test_empty_stored_values_match_only_universal_and_empty(
    stored: object, vr: str, key: str, expected: bool
) -> None:
    assert matches(parse_key("Key", vr, key), stored, vr=vr) is expected


@pytest.mark.parametrize("stored", ["Doe", dt.date(2024, 1, 1), ["CT"], 0, "0"])
def test_empty_value_matching_refuses_known_values(stored: object) -> None:
    assert matches(Empty(), stored, vr="LO") is False


def test_a_range_on_a_text_vr_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="a range does not apply to VR LO"):
        matches(Range("a", "b"), "abc", vr="LO")


# -- person names ----------------------------------------------------------------------------

WANG = "Wang^Xiaoming=王^小明=おう^しょうめい"
YAMADA = "Yamada^Tarou=山田^太郎=やまだ^たろう"


@pytest.mark.parametrize(
    ("key", "stored", "sensitive", "insensitive"),
    [
        ("Doe^John", "Doe^John", True, True),
        ("Doe^John", "DOE^JOHN", False, True),
        ("doe^john", "Doe^John", False, True),
        ("Doe^John", "Doe^John^^^", True, True),  # trailing empty components
        ("Doe^John^^", "Doe^John", True, True),
        ("Doe^John", "Doe^John=", True, True),
        ("Doe", "Doe^John", False, False),  # single value matching is whole-name
        ("Doe^John", "Doe^Johnny", False, False),
        ("Doe^J*", "Doe^John", True, True),
        ("Doe^J*", "Doe^John^^Dr", True, True),  # "*" may cross "^"
        ("Doe^J*", "Doe^Anne", False, False),
        ("Doe^J*", "Doering^John", False, False),
        ("doe^j*", "Doe^John", False, True),
        ("Doe*", "Doe^John", True, True),
        ("Doe*", "Doering^Anne", True, True),
        ("D*n", "Doe^John", True, True),
        ("*John", "Doe^John", True, True),
        ("Doe^Joh?", "Doe^John", True, True),
        ("?oe^John", "Doe^John", True, True),
        ("Doe?John", "Doe^John", True, True),  # "?" is any character, "^" too
        ("Muller^Jurgen", "Müller^Jürgen", False, True),
        ("MÜLLER*", "Müller^Jürgen", False, True),
        ("Müller^Jürgen", "Müller^Jürgen^^", True, True),
        ("doe ^ john", "Doe^John", False, True),  # spacing folded
        # component groups: one-group keys try every group
        ("王*", WANG, True, True),
        ("王^小明", WANG, True, True),
        ("*小明", WANG, True, True),
        ("おう*", WANG, True, True),
        ("Wang*", WANG, True, True),
        ("wang*", WANG, False, True),
        ("Wang^Xiaoming", WANG, True, True),
        ("Wang*小明", WANG, False, False),  # never across groups
        ("*=*小", WANG, False, False),
        ("*明", WANG, True, True),
        ("*めい", WANG, True, True),
        ("王^小明=*", WANG, False, False),  # positional: group 1 is alphabetic
        # several groups in the key: positional, empty groups match anything
        ("Wang^Xiaoming=王^小明", WANG, True, True),
        ("Wang^Xiaoming=王^小明=おう^しょうめい", WANG, True, True),
        ("=王^小明", WANG, True, True),
        ("==おう*", WANG, True, True),
        ("Wang*=王*", WANG, True, True),
        ("Wang*=山田*", WANG, False, False),
        ("Wang^Xiaoming=李^四", WANG, False, False),
        ("Wang^Xiaoming=王^小明", "Wang^Xiaoming", False, False),
        ("=山田^太郎", YAMADA, True, True),
        ("山田*", YAMADA, True, True),
        ("山田*", "=山田^太郎", True, True),
        ("やまだ^たろう", YAMADA, True, True),
        ("ﾔﾏﾀﾞ*", "ヤマダ^タロウ", False, True),  # half-width katakana folded
        ("Hong*=洪*=홍*", "Hong^Gildong=洪^吉洞=홍^길동", True, True),
        ("홍^길동", "Hong^Gildong=洪^吉洞=홍^길동", True, True),
        ("Doe^John", "Doe^John=a=b=c", True, True),  # a 4th stored group is ignored
        ("c", "Doe^John=a=b=c", False, False),
    ],
)
def test_person_names(key: str, stored: str, sensitive: bool, insensitive: bool) -> None:
    condition = parse_key("PatientName", "PN", key)
    assert matches(condition, stored, vr="PN") is sensitive
    assert matches(condition, stored, vr="PN", case_insensitive=True) is insensitive


def test_person_name_lists_match_any_name() -> None:
    condition = parse_key("NameOfPhysiciansReadingStudy", "PN", "Doe^John\\Roe^Jane")
    assert matches(condition, ["Roe^Jane", "Smith^Ann"], vr="PN")
    assert matches(condition, "doe^john", vr="PN", case_insensitive=True)
    assert not matches(condition, ["Smith^Ann"], vr="PN")


def test_case_insensitive_applies_to_person_names_only() -> None:
    assert not matches(parse_key("Modality", "CS", "ct"), "CT", vr="CS", case_insensitive=True)
    assert not matches(parse_key("PatientID", "LO", "a*"), "ABC", vr="LO", case_insensitive=True)


@pytest.mark.parametrize(
    ("text", "sensitive", "insensitive"),
    [
        ("Doe^John", ["Doe^John"], ["DOE^JOHN"]),
        ("Doe^John^^", ["Doe^John"], ["DOE^JOHN"]),
        ("Doe^John==", ["Doe^John"], ["DOE^JOHN"]),
        ("=王^小明", ["", "王^小明"], ["", "王^小明"]),
        (
            WANG,
            ["Wang^Xiaoming", "王^小明", "おう^しょうめい"],
            ["WANG^XIAOMING", "王^小明", "おう^しょうめい"],
        ),
        ("", [""], [""]),
    ],
)
def test_pn_groups(text: str, sensitive: list[str], insensitive: list[str]) -> None:
    assert pn_groups(text) == sensitive
    assert pn_groups(text, case_insensitive=True) == insensitive


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("*", "", True),
        ("?", "", False),
        ("a*b*c", "aXbYc", True),
        ("a*b*c", "aXbY", False),
        ("[ab]", "[ab]", True),
        ("[ab]", "a", False),
        ("a+", "aa", False),
        ("(x)", "(x)", True),
        ("\\d", "\\d", True),
        ("\\d", "5", False),
    ],
)
def test_wildcard_regex_is_literal_apart_from_star_and_question_mark(
    pattern: str, text: str, expected: bool
) -> None:
    assert (wildcard_regex(pattern).fullmatch(text) is not None) is expected


# -- combined date and time ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "time", "expected"),
    [
        ("20060705-20060707", "1000-1800", Range("200607051000", "200607071800")),
        ("20060705-", "1000-", Range("200607051000", None)),
        ("-20060707", "-1800", Range(None, "200607071800")),
        ("2006.07.05-2006.07.07", "10:00-18:00", Range("200607051000", "200607071800")),
        ("20060705-20060707", "103015.5-18", Range("20060705103015.5", "2006070718")),
        # not the same form of range: matched separately
        ("20060705-20060707", "1000-", None),
        ("20060705-", "-1800", None),
        ("20060705-20060707", "1000", None),
        ("20060705", "1000-1800", None),
        ("20060705", "1000", None),
        ("20060705-20060707", "", None),
        ("", "1000-1800", None),
    ],
)
def test_combine_date_time(date: str, time: str, expected: Range | None) -> None:
    combined = combine_date_time(
        parse_key("StudyDate", "DA", date), parse_key("StudyTime", "TM", time)
    )
    assert combined == expected


@pytest.mark.parametrize(
    ("date", "time", "stored_date", "stored_time", "expected"),
    [
        ("20060705-20060707", "1000-1800", dt.date(2006, 7, 5), "100000", True),
        ("20060705-20060707", "1000-1800", dt.date(2006, 7, 5), "095959.999999", False),
        ("20060705-20060707", "1000-1800", dt.date(2006, 7, 6), "000000", True),  # middle day
        ("20060705-20060707", "1000-1800", dt.date(2006, 7, 6), "235959", True),
        ("20060705-20060707", "1000-1800", dt.date(2006, 7, 7), "180059.999999", True),
        ("20060705-20060707", "1000-1800", dt.date(2006, 7, 7), "180100", False),
        ("20060705-20060707", "1000-1800", dt.date(2006, 7, 8), "120000", False),
        ("20060705-20060707", "1000-1800", "20060706", "0300", True),
        ("20060705-20060707", "1000-1800", "2006.07.06", "03:00", True),
        ("20060705-", "1000-", dt.date(2006, 7, 5), "095959", False),
        ("20060705-", "1000-", dt.date(2099, 1, 1), "000000", True),
        ("-20060707", "-1800", dt.date(2006, 7, 7), "1800", True),
        ("-20060707", "-1800", dt.date(2006, 7, 7), "1801", False),
        ("-20060707", "-1800", dt.date(1900, 1, 1), "235959", True),
        # an unknown date or time fails
        ("20060705-20060707", "1000-1800", dt.date(2006, 7, 6), None, False),
        ("20060705-20060707", "1000-1800", dt.date(2006, 7, 6), "", False),
        ("20060705-20060707", "1000-1800", None, "120000", False),
        ("20060705-20060707", "1000-1800", "", "120000", False),
        ("20060705-20060707", "1000-1800", dt.date(2006, 7, 6), "99", False),
    ],
)
def test_matches_date_time(
    date: str, time: str, stored_date: object, stored_time: object, expected: bool
) -> None:
    combined = combine_date_time(
        parse_key("StudyDate", "DA", date), parse_key("StudyTime", "TM", time)
    )
    assert combined is not None
    assert matches_date_time(combined, stored_date, stored_time) is expected


def test_combined_matching_differs_from_separate_matching() -> None:
    """The point of combining: 6 July 03:00 lies inside 5 July 10:00 - 7 July 18:00, although
    03:00 is outside 10:00-18:00."""
    date, time = (
        parse_key("StudyDate", "DA", "20060705-20060707"),
        parse_key("StudyTime", "TM", "1000-1800"),
    )
    combined = combine_date_time(date, time)
    assert combined is not None
    assert matches_date_time(combined, dt.date(2006, 7, 6), "030000")
    assert not matches(time, "030000", vr="TM")
