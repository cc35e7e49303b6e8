"""C-FIND matching conditions (`pacs.model.matching`) as SQL on index columns.

Each function returns a SQLAlchemy boolean expression selecting exactly the rows `matches`
accepts (None for Universal: no filter), the same on SQLite and PostgreSQL:

* Wildcards are LIKE patterns on PostgreSQL, GLOB patterns on SQLite (`pacs.index.wildcards`).
* Dates are DATE columns: plain comparisons.
* Times are text "HHMMSS[.ffffff]" (`normalize_tm`) compared as strings: the low bound in its
  shortest form ("103015.5"), the high bound with six fraction digits ("105959.999999"). For
  such values string order is time order, whatever the number of fraction digits stored.
* DT text columns (kept as received) are compared the same way on their wall-clock digits;
  offsets are ignored here, unlike in `matches`. The low bound drops trailing zero fields so a
  stored value of lower precision still compares by its start ("2006" is not before "2006").
* PN: a one-group query tries each component group and a positional query each position, as
  `matches` does. Case-insensitive, on a name whose groups are stored (`pacs.index.names`), the
  group columns are compared directly, so an exact group or a literal prefix is an index
  search (the columns' indexes take the wildcards' prefix ranges). Otherwise the groups are cut
  out in SQL (split_part on PostgreSQL, substr/instr on SQLite) from the raw column, or
  case-insensitively from the ``*_norm`` column against the `normalize_pn` form of the query.
  Where no index serves the groups, a LIKE '%…%' on the whole value (a superset) goes first,
  which PostgreSQL's trigram index can narrow.
* Multi-valued text columns ("CT\\MR"): a value matches a whole token of "\\" + column + "\\",
  so "MR" never matches "MRX". Wildcards there are refused (a "*" could span two tokens).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    String,
    TypeDecorator,
    and_,
    func,
    literal,
    literal_column,
    or_,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.sql.functions import FunctionElement

from pacs.errors import QueryError
from pacs.index.wildcards import (
    DATE_RANGE,
    ESCAPE,
    glob_pattern,
    like_pattern,
    likely,
    literal_prefix,
    wildcard_match,
)
from pacs.model.matching import (
    INTEGER_VRS,
    NUMBER_VRS,
    PN_GROUPS,
    AnyOf,
    Condition,
    Empty,
    Range,
    Single,
    UidList,
    Universal,
    Wildcard,
    date_bounds,
    datetime_bounds,
    pn_groups,
    time_bounds,
)
from pacs.model.normalize import normalize_pn

__all__ = ["condition_filter", "date_time_filter", "glob_pattern", "like_pattern"]

_TICK = dt.timedelta(microseconds=1)
Filter = ColumnElement[bool]


class _PnGroup(FunctionElement[str]):
    """Component group ``n`` (from 1) of a PN column; "" when the value has fewer groups."""

    type = String()
    name = "pn_group"
    inherit_cache = True


@compiles(_PnGroup)
def _compile_substr(element: _PnGroup, compiler: SQLCompiler, **kw: Any) -> str:
    """SQLite has no split_part: cut ``n - 1`` groups off the front with substr/instr."""
    column, number = _group_arguments(element)
    equals: ColumnElement[str] = literal_column("'='")
    rest = column.concat(equals)  # every group now ends with "="
    for _ in range(number - 1):
        rest = func.substr(rest, func.instr(rest, equals) + 1)
    return compiler.process(func.substr(rest, 1, func.instr(rest, equals) - 1), **kw)


@compiles(_PnGroup, "postgresql")
def _compile_split(element: _PnGroup, compiler: SQLCompiler, **kw: Any) -> str:
    column, number = _group_arguments(element)
    return f"split_part({compiler.process(column, **kw)}, '=', {number})"


def _group_arguments(element: _PnGroup) -> tuple[ColumnElement[Any], int]:
    column, number = element.clauses
    return column, int(cast(ColumnClause[Any], number).name)


def _group(column: ColumnElement[Any], number: int, *, insensitive: bool) -> ColumnElement[Any]:
    group = _PnGroup(column, literal_column(str(number)))
    return group if insensitive else func.rtrim(group, literal_column("'^'"))


# -- conditions ------------------------------------------------------------------------------


def condition_filter(
    column: ColumnElement[Any],
    condition: Condition,
    *,
    vr: str,
    multi: bool = False,
    case_insensitive: bool = False,
    norm: ColumnElement[Any] | None = None,
    groups: Sequence[ColumnElement[Any]] = (),
) -> Filter | None:
    """The SQL form of ``condition`` on ``column`` (None: no filter). ``multi``: the column
    holds backslash-joined values. For PN with ``case_insensitive``, ``norm`` is the column's
    `normalize_pn` form and ``groups``, if given, the component groups of it stored as columns
    (`pacs.index.names`); ``case_insensitive`` does not apply to other VRs."""
    vr = vr.upper()
    if isinstance(condition, Universal):
        return None
    if isinstance(condition, Empty):
        empty = column.is_(None)
        return or_(empty, column == "") if _is_text(column) else empty
    if vr == "PN":
        if multi:
            raise QueryError(f"{_name(column)}: multi-valued person names cannot be matched")
        return _pn_filter(column, condition, case_insensitive, norm, groups)
    if multi:
        return _token_filter(column, condition)
    if vr in ("DA", "TM", "DT"):
        return _temporal(column, condition, vr)
    if isinstance(condition, UidList | AnyOf):
        return column.in_([_typed(value, vr) for value in condition.values])
    if isinstance(condition, Wildcard):
        return wildcard_match(column, condition.pattern)
    if isinstance(condition, Single):
        return column == _typed(condition.value, vr)
    raise ValueError(f"{condition!r} does not apply to VR {vr}")


def _name(column: ColumnElement[Any]) -> str:
    return str(getattr(column, "key", column))


def _is_text(column: ColumnElement[Any]) -> bool:
    """Text columns hold "" for a missing value; others (dates, numbers) hold NULL only."""
    kind = column.type
    return isinstance(kind.impl_instance if isinstance(kind, TypeDecorator) else kind, String)


def _typed(value: str, vr: str) -> object:
    if vr in INTEGER_VRS:
        return int(value)
    return float(value) if vr in NUMBER_VRS else value


def _token_filter(column: ColumnElement[Any], condition: Condition) -> Filter:
    if isinstance(condition, Single):
        values: tuple[str, ...] = (condition.value,)
    elif isinstance(condition, AnyOf | UidList):
        values = condition.values
    else:
        raise QueryError(f"{_name(column)}: only exact values match a multi-valued attribute")
    wrapped = literal("\\", String) + column + literal("\\", String)
    return or_(*(wildcard_match(wrapped, f"*\\{value}\\*") for value in values))


def _temporal(column: ColumnElement[Any], condition: Condition, vr: str) -> Filter:
    low: object
    high: object
    if vr == "DA":
        low, high = date_bounds(condition)
        if isinstance(condition, Single):
            return column == low
    elif vr == "TM":
        first, last = time_bounds(condition)
        low = None if first is None else _time_text(first, end=False)
        high = None if last is None else _time_text(last, end=True)
    else:
        start, end = datetime_bounds(condition)
        low = None if start is None else _datetime_text(start, end=False)
        high = None if end is None else _datetime_text(end, end=True)
    parts = [column >= low] if low is not None else []
    parts += [column <= high] if high is not None else []
    if vr == "DA":  # DATE columns are indexed: make SQLite search the range
        parts = [likely(part, DATE_RANGE) for part in parts]
    if low is None and _is_text(column):
        parts.append(column != "")  # "" sorts first but is an unknown value
    return and_(*parts)


def _time_text(micros: int, *, end: bool) -> str:
    """Microseconds of the day → "HHMMSS" plus the fraction: six digits for an upper bound
    (every stored time of that second sorts below it), as few as possible for a lower one."""
    seconds, fraction = divmod(micros, 1_000_000)
    minutes, second = divmod(seconds, 60)
    text = f"{minutes // 60:02d}{minutes % 60:02d}{second:02d}"
    if end:
        return f"{text}.{fraction:06d}"
    return f"{text}.{fraction:06d}".rstrip("0") if fraction else text


def _datetime_text(moment: dt.datetime, *, end: bool) -> str:
    """A DT bound as wall-clock digits; a lower bound also drops trailing fields at their
    minimum ("20060101000000" → "2006"), since stored values may be of lower precision."""
    date, time = moment.date(), moment.time()
    digits = f"{date.year:04d}{date.month:02d}{date.day:02d}"
    digits += f"{time.hour:02d}{time.minute:02d}{time.second:02d}"
    if end or moment.microsecond:
        fraction = f".{moment.microsecond:06d}"
        return digits + (fraction if end else fraction.rstrip("0"))
    for minimum in ("00", "00", "00", "01", "01"):
        if not digits.endswith(minimum):
            break
        digits = digits[:-2]
    return digits


def _micros_of_day(moment: dt.datetime) -> int:
    return (moment - moment.replace(hour=0, minute=0, second=0, microsecond=0)) // _TICK


def date_time_filter(
    date_column: ColumnElement[Any], time_column: ColumnElement[Any], condition: Range
) -> Filter:
    """A combined date-time range (`combine_date_time`) on a DATE column and a time text
    column; rows whose date or time is unknown fail, as in `matches_date_time`."""
    low, high = datetime_bounds(condition)
    parts = [date_column.is_not(None), time_column.is_not(None), time_column != ""]
    if low is not None:
        day, text = low.date(), _time_text(_micros_of_day(low), end=False)
        parts.append(or_(date_column > day, and_(date_column == day, time_column >= text)))
    if high is not None:
        day, text = high.date(), _time_text(_micros_of_day(high), end=True)
        parts.append(or_(date_column < day, and_(date_column == day, time_column <= text)))
    return and_(*parts)


# -- person names ----------------------------------------------------------------------------


def _pn_filter(
    raw: ColumnElement[Any],
    condition: Condition,
    insensitive: bool,
    norm: ColumnElement[Any] | None,
    groups: Sequence[ColumnElement[Any]],
) -> Filter:
    if isinstance(condition, AnyOf):
        return or_(
            *(_pn_filter(raw, Single(v), insensitive, norm, groups) for v in condition.values)
        )
    if not isinstance(condition, Single | Wildcard):
        raise ValueError(f"{condition!r} does not apply to VR PN")
    wildcard = isinstance(condition, Wildcard)
    query = condition.pattern if isinstance(condition, Wildcard) else condition.value
    asked = pn_groups(query, case_insensitive=insensitive)
    column = _pn_column(raw, norm, insensitive)
    if insensitive and groups:
        if len(groups) != PN_GROUPS:
            raise ValueError(f"{_name(raw)}: expected {PN_GROUPS} group columns")
        where = _groups_filter(raw, groups, asked, wildcard=wildcard, indexed=True)
        if any(literal_prefix(want) if wildcard else want for want in asked):
            return where  # an equality or a prefix range an index serves
    else:
        cut = [_group(column, n, insensitive=insensitive) for n in range(1, PN_GROUPS + 1)]
        where = _groups_filter(raw, cut, asked, wildcard=wildcard, indexed=False)
    hint = next((want for want in asked if want), "")
    return and_(column.like(f"%{like_pattern(hint)}%", escape=ESCAPE), where)


def _pn_column(
    column: ColumnElement[Any], norm: ColumnElement[Any] | None, insensitive: bool
) -> ColumnElement[Any]:
    if not insensitive:
        return column
    if norm is None:
        raise ValueError(f"case-insensitive matching of {_name(column)} needs its _norm column")
    return norm


def _groups_filter(
    raw: ColumnElement[Any],
    groups: Sequence[ColumnElement[Any]],
    asked: list[str],
    *,
    wildcard: bool,
    indexed: bool,
) -> Filter:
    """`_match_pn` on the stored groups (each "" when the name lacks it): one query group
    matches any group the name has, several are positional (an empty one matches anything)."""

    def test(group: ColumnElement[Any], want: str) -> Filter:
        if wildcard and ("*" in want or "?" in want):
            return wildcard_match(group, want, indexed=indexed)
        return group == want

    def hollow(want: str) -> bool:  # matches "" too: only "*"s, or ""
        return not want.strip("*") if wildcard else not want

    if len(asked) == 1:
        want = asked[0]
        tests = [test(group, want) for group in groups]
        if hollow(want):  # then a group the name lacks must not count as an empty one
            tests[1:] = [and_(tests[n], _present(groups, n)) for n in range(1, len(groups))]
        where, wants = or_(*tests), [want]
    else:
        pairs = [(group, want) for group, want in zip(groups, asked, strict=False) if want]
        where, wants = and_(*(test(group, want) for group, want in pairs)), [w for _, w in pairs]
    if all(hollow(want) for want in wants):
        where = and_(raw != "", where)  # an empty value matches nothing
    return where


def _present(groups: Sequence[ColumnElement[Any]], number: int) -> Filter:
    """Does the name have group ``number`` (from 0)? Trailing empty groups are dropped, so
    a later one does when it or a group after it is not empty."""
    return or_(*(group != "" for group in groups[number:]))


FUZZY_NAME = 0.001


def fuzzy_pn(norm: ColumnElement[Any], value: str) -> Filter:
    """QIDO-RS fuzzy matching of a name: some component of some group starts with ``value``
    (case, accents and width ignored). ``norm`` is the name's `normalize_pn` column, where
    components are separated by "^", groups by "=" (spaces kept as written)."""
    want = like_pattern(normalize_pn(value).strip("^= "))
    if not want:
        return true()
    starts = [norm.like(f"{want}%", escape=ESCAPE)]
    starts += [norm.like(f"%{sep}{want}%", escape=ESCAPE) for sep in "^= "]
    # No index serves "%^X%": told that few names match, SQLite reads the patients once and
    # joins their studies, instead of testing each study's patient in id order.
    return likely(or_(*starts), FUZZY_NAME)
