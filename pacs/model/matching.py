"""C-FIND attribute matching (PS3.4 C.2.2.2) as pure functions: parse a key, match a value.

The Query/Retrieve SCP, QIDO-RS and the worklist share these rules: `parse_key` turns one key's
value into a condition, `matches` evaluates it on a stored Python value, `pacs.index.filters`
gives the same condition as SQL. Where the standard leaves room:

* Empty stored values (None, "", no values) match only Universal and Empty: an unknown value
  fails every matching key (PS3.4 K.2.2.1.1.1); "*" is Universal, so it matches them too.
* '""' (two quotation marks) is Empty Value Matching: only empty stored values match.
* Only "*" characters is Universal for every VR. Other wildcards are allowed only for AE, CS,
  LO, LT, PN, SH, ST, UC, UR and UT (C.2.2.2.4); elsewhere they raise a QueryError, since a "*"
  is never part of a valid date, time, UID or number.
* "-" is a range only for DA, TM and DT; it is ordinary text elsewhere, and makes an invalid
  number or age (QueryError). A reversed range, or "-" alone, is a QueryError too.
* Partial precision denotes a span: TM "10" is 10:00:00-10:59:59.999999, DT "2006" the whole
  year. A Single matches within its span; a Range runs from the start of its low span to the
  end of its high span. Stored values are points (the start of their span). DT offsets count
  when both sides carry one; otherwise wall-clock times are compared.
* Backslash-separated values: UidList for UI, AnyOf of literal values elsewhere (no wildcards
  among them); LT, ST, UT and UR keep a backslash as text; DA, TM and DT reject it.
* PN: values split into component groups on "=". A one-group query matches when any of the
  first three stored groups matches ("王*" finds the ideographic group of
  "Wang^Xiaoming=王^小明"); a query of several groups is positional, an empty query group
  matching anything. Trailing "^" are insignificant and "*"/"?" apply to a group's text as the
  standard defines them, so "*" may cross "^" ("Doe^J*" matches "Doe^John^^Dr").
  Case-insensitive matching compares `normalize_pn` forms (case, accents, width, spacing); it
  applies to PN only.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Sequence
from typing import TypeVar

import attrs

from pacs.errors import QueryError
from pacs.model.normalize import normalize_pn, parse_da

WILDCARD_VRS = frozenset({"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"})
RANGE_VRS = frozenset({"DA", "TM", "DT"})
TEXT_VRS = frozenset({"LT", "ST", "UT", "UR"})  # one value: a backslash is text
INTEGER_VRS = frozenset({"IS", "US", "SS", "UL", "SL", "UV", "SV"})
NUMBER_VRS = INTEGER_VRS | {"DS", "FL", "FD"}
KEY_VRS = WILDCARD_VRS | RANGE_VRS | NUMBER_VRS | {"UI", "AS"}
PN_GROUPS = 3

_PADDING = " \x00"
_UID = re.compile(r"[0-9]+(?:\.[0-9]+)*")
_INTEGER, _UNSIGNED = re.compile(r"[+-]?[0-9]+"), re.compile(r"\+?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SYNTAX = {
    **dict.fromkeys(("IS", "SS", "SL", "SV"), _INTEGER),
    **dict.fromkeys(("US", "UL", "UV"), _UNSIGNED),
    **dict.fromkeys(("DS", "FL", "FD"), _DECIMAL),
    "AS": re.compile(r"[0-9]{3}[DWMY]"),
}
_TM = re.compile(r"[0-9]{2}(?:(:?)[0-9]{2}(?:\1[0-9]{2}(?:\.[0-9]{1,6})?)?)?")
_DT = re.compile(r"([0-9]{4})((?:[0-9]{2}){0,5})(?:\.([0-9]{1,6}))?(?:([+-][0-9]{2})([0-9]{2}))?")
_KIND = {"DA": "date", "TM": "time", "DT": "datetime"}
_DAY0 = dt.datetime(2000, 1, 1)
_TICK = dt.timedelta(microseconds=1)
T = TypeVar("T")


@attrs.frozen
class Universal:
    """Zero-length key (or "*"): every entity matches; the key only asks for the value back."""


@attrs.frozen
class Empty:
    """'""': only entities whose value is empty match (Empty Value Matching)."""


@attrs.frozen
class Single:
    """Exact value. DA is kept as "YYYYMMDD", TM without colons, anything else as received."""

    value: str


@attrs.frozen
class Wildcard:
    """A pattern where "*" matches any sequence of characters and "?" any single character."""

    pattern: str


@attrs.frozen
class Range:
    """Inclusive DA, TM or DT range; None is an open end. Bounds keep their written precision."""

    low: str | None
    high: str | None


@attrs.frozen
class UidList:
    """List of UID Matching: any of the UIDs."""

    values: tuple[str, ...]


@attrs.frozen
class AnyOf:
    """Several literal values: matches when any value of the entity equals any of them."""

    values: tuple[str, ...]


Condition = Universal | Empty | Single | Wildcard | Range | UidList | AnyOf


# -- parsing ---------------------------------------------------------------------------------


def parse_key(keyword: str, vr: str, value: object) -> Condition:
    """One key of a query → its condition. ``value`` is text (a backslash separates values) or a
    sequence of values; ``keyword`` names the attribute in every QueryError."""
    vr = vr.upper()
    text = _key_text(value, vr)
    if not text.strip("*"):
        return Universal()
    if text == '""':
        return Empty()
    if vr not in KEY_VRS:
        raise QueryError(f"{keyword}: matching on VR {vr} is not supported")
    if vr in RANGE_VRS:
        return _parse_temporal(keyword, vr, text)
    if vr == "UI":
        return _parse_uids(keyword, text)
    if "\\" in text and vr not in TEXT_VRS:
        return _parse_list(keyword, vr, text)
    if vr == "PN" and text.count("=") >= PN_GROUPS:
        raise QueryError(f"{keyword}: a person name has at most {PN_GROUPS} groups ({text!r})")
    if vr == "PN" and all(not group.strip("*") for group in pn_groups(text)):
        return Universal()  # "*=*", "^", "=": no group asks for anything
    if "*" not in text and "?" not in text:
        _check_value(keyword, vr, text)
        return Single(text)
    if vr not in WILDCARD_VRS:
        raise QueryError(f"{keyword}: wildcards are not allowed for VR {vr} ({text!r})")
    return Wildcard(text)


def _key_text(value: object, vr: str) -> str:
    """The key as one string; padding is insignificant (only trailing padding for text VRs)."""
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        value = "\\".join(str(item) for item in value)
    text = "" if value is None else str(value)
    return text.rstrip(_PADDING) if vr in TEXT_VRS else text.strip(_PADDING)


def _check_value(keyword: str, vr: str, text: str) -> None:
    """Numbers and ages must be valid; a "-" inside one is a range their VR does not allow."""
    syntax = _SYNTAX.get(vr)
    if syntax is None or syntax.fullmatch(text):
        return
    if "-" in text[1:]:
        raise QueryError(f"{keyword}: range matching is only defined for DA, TM and DT, not {vr}")
    raise QueryError(f"{keyword}: invalid {vr} value {text!r}")


def _split(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(part.strip(_PADDING) for part in text.split("\\")))


def _parse_uids(keyword: str, text: str) -> Single | UidList:
    uids = _split(text)
    for uid in uids:
        if "*" in uid or "?" in uid:
            raise QueryError(f"{keyword}: wildcards are not allowed for VR UI ({text!r})")
        if not _UID.fullmatch(uid) or len(uid) > 64:
            raise QueryError(f"{keyword}: invalid UID {uid!r}")
    return Single(uids[0]) if len(uids) == 1 else UidList(uids)


def _parse_list(keyword: str, vr: str, text: str) -> AnyOf:
    values = _split(text)
    for value in values:
        if not value:
            raise QueryError(f"{keyword}: empty value in the list {text!r}")
        if "*" in value or "?" in value:
            raise QueryError(f"{keyword}: wildcards cannot be combined with several values")
        _check_value(keyword, vr, value)
    return AnyOf(values)


def _parse_temporal(keyword: str, vr: str, text: str) -> Single | Range:
    """Single or Range of DA/TM/DT. A DT offset may hold a "-", so each "-" is tried as the
    separator: an ordered range wins, else a single value (e.g. "20060705-0500")."""
    kind = _KIND[vr]
    if any(char in text for char in "\\*?"):
        raise QueryError(f"{keyword}: no wildcard or list is allowed in a {kind} ({text!r})")
    if not text.strip(" -"):
        raise QueryError(f"{keyword}: a range needs a start or an end ({text!r})")
    problem = f"{keyword}: invalid {kind} {text!r}"
    for index in [i for i, char in enumerate(text) if char == "-"]:
        low, high = text[:index].strip(), text[index + 1 :].strip()
        spans = [_span(vr, part) if part else None for part in (low, high)]
        if all(span is not None for span, part in zip(spans, (low, high), strict=True) if part):
            if _ordered(spans[0], spans[1]):
                return Range(_canonical(vr, low) or None, _canonical(vr, high) or None)
            problem = f"{keyword}: the range {text!r} starts after it ends"
    if _span(vr, text) is not None:
        return Single(_canonical(vr, text))
    raise QueryError(problem)


def _ordered(low: tuple[object, object] | None, high: tuple[object, object] | None) -> bool:
    if low is None or high is None:
        return True
    first, last = _aligned(low[0], high[1])
    return bool(first <= last)  # type: ignore[operator]


def _canonical(vr: str, text: str) -> str:
    """DA legacy "YYYY.MM.DD" → "YYYYMMDD"; TM legacy colons dropped; DT as written."""
    return text.replace(".", "") if vr == "DA" else text.replace(":", "") if vr == "TM" else text


# -- spans of dates and times ----------------------------------------------------------------


def _span(vr: str, text: str) -> tuple[object, object] | None:
    if vr == "DA":
        day = parse_da(text)
        return None if day is None else (day, day)
    return _time_span(text) if vr == "TM" else _dt_span(text)


def _time_span(text: str) -> tuple[int, int] | None:
    """TM → (first, last) microsecond of the day it denotes: the DT rules on a fixed day."""
    span = _dt_span(f"{_DAY0:%Y%m%d}{text.replace(':', '')}") if _TM.fullmatch(text) else None
    return None if span is None else ((span[0] - _DAY0) // _TICK, (span[1] - _DAY0) // _TICK)


def _dt_span(text: str) -> tuple[dt.datetime, dt.datetime] | None:
    """DT → (first, last) microsecond it denotes; aware when it carries an offset."""
    match = _DT.fullmatch(text)
    if match is None or (match[3] and len(match[2]) < 10):
        return None
    digits = match[2]
    given = [int(match[1])] + [int(digits[i : i + 2]) for i in range(0, len(digits), 2)]
    year, month, day, hour, minute, second = given + [1, 1, 0, 0, 0][len(given) - 1 :]
    fraction = match[3] or ""
    try:
        zone = _offset(match[4], match[5])
        start = dt.datetime(year, month, day, hour, minute, min(second, 59), tzinfo=zone)
        start += dt.timedelta(seconds=max(second - 59, 0))  # 60: a leap second
        start += int(fraction.ljust(6, "0")) * _TICK
        return start, _span_end(start, len(given), fraction)
    except (ValueError, OverflowError):
        return None


def _offset(hours: str | None, minutes: str | None) -> dt.timezone | None:
    """ "&ZZXX" → timezone (-12:00 to +14:00); None when absent; ValueError when out of range."""
    if hours is None or minutes is None:
        return None
    offset = dt.timedelta(hours=int(hours), minutes=int(minutes) * (-1 if hours[0] == "-" else 1))
    if int(minutes) > 59 or not -dt.timedelta(hours=12) <= offset <= dt.timedelta(hours=14):
        raise ValueError(f"offset {hours}{minutes} out of range")
    return dt.timezone(offset)


def _span_end(start: dt.datetime, given: int, fraction: str) -> dt.datetime:
    """Last microsecond of the span that starts at ``start`` with ``given`` fields written."""
    if given == 1:
        return start.replace(year=start.year + 1) - _TICK
    if given == 2:
        years, month = divmod(start.month, 12)
        return start.replace(year=start.year + years, month=month + 1) - _TICK
    units = {3: dt.timedelta(days=1), 4: dt.timedelta(hours=1), 5: dt.timedelta(minutes=1)}
    return start + units.get(given, int(10 ** (6 - len(fraction))) * _TICK) - _TICK


def _aligned(first: T, second: T) -> tuple[T, T]:
    """Two datetimes comparable: when only one carries an offset, both as wall-clock times."""
    if (
        isinstance(first, dt.datetime)
        and isinstance(second, dt.datetime)
        and (first.tzinfo is None) != (second.tzinfo is None)
    ):
        return first.replace(tzinfo=None), second.replace(tzinfo=None)
    return first, second


def _bounds(
    condition: Condition, span: Callable[[str], tuple[T, T] | None]
) -> tuple[T | None, T | None]:
    """First point of the low bound's span and last point of the high bound's (None: open)."""
    if isinstance(condition, Single):
        low, high = condition.value, condition.value
    elif isinstance(condition, Range):
        low, high = condition.low or "", condition.high or ""
    else:
        raise ValueError(f"{type(condition).__name__} has no bounds")
    low_span, high_span = (span(low) if low else None), (span(high) if high else None)
    if (low and low_span is None) or (high and high_span is None):
        raise ValueError(f"malformed bound in {condition!r}")
    return (low_span[0] if low_span else None), (high_span[1] if high_span else None)


def date_bounds(condition: Condition) -> tuple[dt.date | None, dt.date | None]:
    """First and last day a DA Single or Range admits."""
    return _bounds(condition, lambda text: (day, day) if (day := parse_da(text)) else None)


def time_bounds(condition: Condition) -> tuple[int | None, int | None]:
    """First and last microsecond of the day a TM Single or Range admits."""
    return _bounds(condition, _time_span)


def datetime_bounds(condition: Condition) -> tuple[dt.datetime | None, dt.datetime | None]:
    """First and last moment a DT Single or Range admits, aware when written with an offset."""
    return _bounds(condition, _dt_span)


# -- combined date and time ------------------------------------------------------------------


def combine_date_time(date: Condition, time: Condition) -> Range | None:
    """StudyDate + StudyTime (and the like) as one datetime range (PS3.4 C.2.2.2.5): when both
    are ranges of the same form, their bounds are concatenated ("20060705-20060707" and
    "1000-1800" → 5 July 10:00 to 7 July 18:00:59.999999). Otherwise None: match separately."""
    if not isinstance(date, Range) or not isinstance(time, Range):
        return None
    if (date.low is None) != (time.low is None) or (date.high is None) != (time.high is None):
        return None
    low = None if date.low is None else date.low + (time.low or "")
    return Range(low, None if date.high is None else date.high + (time.high or ""))


def matches_date_time(condition: Range, date: object, time: object) -> bool:
    """A combined range against a stored date (date or DA text) and time (TM text); an unknown
    date or time fails, as an unknown value fails any matching key."""
    day = date if isinstance(date, dt.date) else parse_da(str(date)) if date else None
    span = _time_span(time.strip(_PADDING)) if isinstance(time, str) else None
    if day is None or span is None:
        return False
    moment = dt.datetime.combine(day, dt.time()) + span[0] * _TICK
    low, high = datetime_bounds(condition)
    return (low is None or low <= moment) and (high is None or moment <= high)


# -- matching --------------------------------------------------------------------------------


def matches(
    condition: Condition, value: object, *, vr: str, case_insensitive: bool = False
) -> bool:
    """Does a stored value match? ``value`` is text, a date, a number, or a list/tuple of them
    for a multi-valued attribute (matching when any of its values matches). ``case_insensitive``
    applies to PN only."""
    if isinstance(condition, Universal):
        return True
    vr = vr.upper()
    items = list(value) if isinstance(value, list | tuple) else [value]
    strip = str.rstrip if vr in TEXT_VRS else str.strip
    cleaned = [strip(item, _PADDING) if isinstance(item, str) else item for item in items]
    values = [item for item in cleaned if item is not None and item != ""]
    if isinstance(condition, Empty):
        return not values
    return any(_match_one(condition, item, vr, case_insensitive) for item in values)


def _match_one(condition: Condition, value: object, vr: str, insensitive: bool) -> bool:
    if isinstance(condition, UidList | AnyOf):
        return any(_match_one(Single(v), value, vr, insensitive) for v in condition.values)
    if vr in RANGE_VRS:
        return _match_temporal(condition, value, vr)
    if isinstance(condition, Range):
        raise ValueError(f"a range does not apply to VR {vr}")
    if vr == "PN":
        return _match_pn(condition, str(value), insensitive)
    if vr in NUMBER_VRS and isinstance(condition, Single):
        return _number(value, vr) == _number(condition.value, vr)
    if isinstance(condition, Wildcard):
        return wildcard_regex(condition.pattern).fullmatch(str(value)) is not None
    return isinstance(condition, Single) and str(value) == condition.value


def _number(value: object, vr: str) -> float | None:
    try:
        return int(str(value)) if vr in INTEGER_VRS else float(str(value))
    except ValueError:
        return None


def _match_temporal(condition: Condition, value: object, vr: str) -> bool:
    point: object = value
    if not isinstance(value, dt.date):
        span = _span(vr, str(value))
        point = None if span is None else span[0]
    low, high = _bounds(condition, lambda text: _span(vr, text))
    pairs = (_aligned(low, point), _aligned(point, high))
    return point is not None and all(
        first <= last  # type: ignore[operator]
        for first, last in pairs
        if first is not None and last is not None
    )


@functools.lru_cache(maxsize=256)
def wildcard_regex(pattern: str) -> re.Pattern[str]:
    """ "*" → any sequence, "?" → any one character, everything else literal."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL)


def pn_groups(text: str, *, case_insensitive: bool = False) -> list[str]:
    """Component groups of a PN without their trailing "^", trailing empty groups dropped;
    case-insensitive: the groups of its `normalize_pn` form."""
    text = normalize_pn(text) if case_insensitive else text
    groups = [group.rstrip("^") for group in text.split("=")]
    while len(groups) > 1 and not groups[-1]:
        groups.pop()
    return groups


def _match_pn(condition: Condition, value: str, insensitive: bool) -> bool:
    if not isinstance(condition, Single | Wildcard):
        raise ValueError(f"{type(condition).__name__} does not apply to VR PN")
    query = condition.value if isinstance(condition, Single) else condition.pattern
    asked = pn_groups(query, case_insensitive=insensitive)
    stored = pn_groups(value, case_insensitive=insensitive)[:PN_GROUPS]

    def test(pattern: str, group: str) -> bool:
        if isinstance(condition, Single):
            return pattern == group
        return wildcard_regex(pattern).fullmatch(group) is not None

    if len(asked) == 1:
        return any(test(asked[0], group) for group in stored)
    stored = (stored + [""] * PN_GROUPS)[: len(asked)]
    return all(not want or test(want, have) for want, have in zip(asked, stored, strict=True))
