"""Queries of the index at one level (C-FIND, QIDO-RS): plan from keys, then stream the rows.

A query names keys with values. Keys the index knows (`keys.KEYS`) at or above the query level
are matched; keys it does not know, or below the level, are returned empty and never matched.
Keys of higher levels may carry any matching (relational queries), which is what clients send in
practice. `rows` is thread-only: it blocks on the database and streams the result."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs
from sqlalchemy import ColumnElement, Engine, Select, and_, func, select

from pacs.errors import QueryError
from pacs.index import filters
from pacs.index.keys import DATE_TIME_PAIRS, KEYS, TABLES, UNIQUE_KEYS, Key, Level
from pacs.index.statements import INSTANCE, PATIENT, SERIES, STUDY
from pacs.model.matching import Condition, Range, Single, Universal, combine_date_time, parse_key

LEVEL_NAMES = {level.name: level for level in Level}


@attrs.frozen(kw_only=True)
class Query:
    level: Level
    conditions: tuple[tuple[Key, Condition], ...] = ()
    date_times: tuple[tuple[Key, Key, Range], ...] = ()
    returns: tuple[Key, ...] = ()  # index keys whose values come back
    case_insensitive: bool = True
    fuzzy: bool = False  # QIDO-RS fuzzymatching: names match by the prefix of any component


def level_of(text: object) -> Level:
    name = str(text or "").strip().upper()
    if name not in LEVEL_NAMES:
        raise QueryError(
            f"QueryRetrieveLevel: expected PATIENT, STUDY, SERIES or IMAGE, got {name!r}"
        )
    return LEVEL_NAMES[name]


def plan(
    level: Level,
    values: Mapping[str, object],
    *,
    case_insensitive: bool = True,
    fuzzy: bool = False,
) -> Query:
    """``values``: keyword → query value (text, possibly backslash-separated, or a list) for
    every key the caller asked for; an empty value asks for the key without matching on it."""
    parsed: dict[str, tuple[Key, Condition]] = {}
    for keyword, value in values.items():
        key = KEYS.get(keyword)
        if key is None or key.level > level:
            continue
        condition = parse_key(keyword, key.vr, value) if key.matchable else Universal()
        parsed[keyword] = (key, condition)
    date_times = []
    for date_kw, time_kw in DATE_TIME_PAIRS:
        if date_kw in parsed and time_kw in parsed:
            combined = combine_date_time(parsed[date_kw][1], parsed[time_kw][1])
            if combined is not None:
                date_times.append((parsed[date_kw][0], parsed[time_kw][0], combined))
                parsed[date_kw] = (parsed[date_kw][0], Universal())
                parsed[time_kw] = (parsed[time_kw][0], Universal())
    return Query(
        level=level,
        conditions=tuple(v for v in parsed.values() if not isinstance(v[1], Universal)),
        date_times=tuple(date_times),
        returns=tuple(key for key, _ in parsed.values()),
        case_insensitive=case_insensitive,
        fuzzy=fuzzy,
    )


def _joined(level: Level) -> Any:
    """The level's table joined to its ancestors (each row one entity of ``level``)."""
    source: Any = TABLES[level]
    if level >= Level.IMAGE:
        source = source.join(SERIES, INSTANCE.c.series_pk == SERIES.c.id)
    if level >= Level.SERIES:
        source = source.join(STUDY, SERIES.c.study_pk == STUDY.c.id)
    if level >= Level.STUDY:
        source = source.join(PATIENT, STUDY.c.patient_pk == PATIENT.c.id)
    return source


def _filters(query: Query) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    for key, condition in query.conditions:
        if query.fuzzy and key.vr == "PN" and key.search and isinstance(condition, Single):
            out.append(filters.fuzzy_pn(key.col(normalised=True), condition.value))
            continue
        insensitive = query.case_insensitive and key.vr == "PN"
        where = filters.condition_filter(
            key.col(),
            condition,
            vr=key.vr,
            multi=key.multi,
            case_insensitive=insensitive,
            norm=key.col(normalised=True) if insensitive and key.search else None,
            groups=key.group_cols() if insensitive else (),
        )
        if where is not None:
            out.append(where)
    for date_key, time_key, combined in query.date_times:
        out.append(filters.date_time_filter(date_key.col(), time_key.col(), combined))
    return out


def statement(
    query: Query,
    *,
    limit: int | None = None,
    offset: int = 0,
    ordered: bool = True,
    order: Sequence[Any] = (),
) -> Select[Any]:
    """SELECT the returned keys (labelled by keyword) and every unique key up to the level;
    ``ordered``: in insertion order, which paging needs and C-FIND does not. Unordered, SQLite
    is not tempted to read a whole table in id order to spare a sort when a filter's index
    would find the few matching rows at once."""
    wanted = {key.keyword: key for key in query.returns}
    for level in Level:
        if level <= query.level:
            wanted.setdefault(UNIQUE_KEYS[level], KEYS[UNIQUE_KEYS[level]])
    columns: list[Any] = [key.col().label(keyword) for keyword, key in wanted.items()]
    stmt: Select[Any] = select(*columns).select_from(_joined(query.level))
    where = _filters(query)
    if where:
        stmt = stmt.where(and_(*where))
    if ordered:  # ``order`` first, then insertion order (exact paging on equal keys)
        stmt = stmt.order_by(*order, TABLES[query.level].c.id)
    if offset:
        stmt = stmt.offset(offset)
    return stmt.limit(limit) if limit is not None else stmt


def rows(
    engine: Engine,
    query: Query,
    *,
    limit: int | None = None,
    offset: int = 0,
    ordered: bool = True,
    order: Sequence[Any] = (),
) -> Iterator[dict[str, Any]]:
    """Stream the matching rows as keyword → value (dates as ``datetime.date``)."""
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=200).execute(
            statement(query, limit=limit, offset=offset, ordered=ordered, order=order)
        )
        for row in result.mappings():
            yield dict(row)


def dicom_value(key: Key, value: object) -> object:
    """A column value as the DICOM value of its key (None stays None: an empty value)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value.strftime("%Y%m%d")
    if key.multi and isinstance(value, str):
        return [part for part in value.split("\\") if part]
    return value


def count(engine: Engine, query: Query) -> int:
    """How many entities match ``query``."""
    counted = select(func.count()).select_from(statement(query, ordered=False).subquery())
    with engine.connect() as conn:
        return int(conn.execute(counted).scalar_one())
