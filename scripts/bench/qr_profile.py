"""In-process view of the C-FIND query path on a cached index: the SQL `pacs.index.query` emits,
SQLite's EXPLAIN QUERY PLAN, its run time, a cProfile of ``rows()``, and the per-match cost of
building and encoding a response the way the C-FIND SCP does."""

from __future__ import annotations

import cProfile
import io
import pstats
import statistics
import time
from dataclasses import dataclass
from typing import Any

from pynetdicom.dsutils import decode, encode
from qr_queries import QueryKind
from sqlalchemy import Engine, text

from pacs.dicom.handlers.find import ResponseShape
from pacs.index import query as index_query
from pacs.index.db import make_engine
from pacs.index.keys import Level

LIMIT = 10000  # [dicom] max_find_results default: the SCP asks for one row more, unordered


@dataclass
class SqlTiming:
    p50_ms: float
    rows: int


def engine_for(url: str) -> Engine:
    return make_engine(url)


def _statement(kind: QueryKind) -> Any:
    planned = index_query.plan(Level.STUDY, kind.values(), case_insensitive=True)
    return planned, index_query.statement(planned, limit=LIMIT + 1, ordered=False)


def sql_timing(engine: Engine, kind: QueryKind, count: int, budget: float) -> SqlTiming:
    """p50 of ``list(rows(...))`` in-process: SQLite plus SQLAlchemy, no DICOM."""
    planned, _ = _statement(kind)
    times: list[float] = []
    rows = 0
    deadline = time.monotonic() + budget
    list(index_query.rows(engine, planned, limit=LIMIT + 1, ordered=False))  # warm the page cache
    for i in range(count):
        start = time.perf_counter()
        rows = len(list(index_query.rows(engine, planned, limit=LIMIT + 1, ordered=False)))
        times.append(time.perf_counter() - start)
        if i >= 2 and time.monotonic() > deadline:
            break
    return SqlTiming(statistics.median(times) * 1000, rows)


def sql_text(engine: Engine, kind: QueryKind) -> str:
    _, stmt = _statement(kind)
    return str(stmt.compile(engine, compile_kwargs={"literal_binds": True}))


def query_plan(engine: Engine, kind: QueryKind) -> list[str]:
    """EXPLAIN QUERY PLAN lines, indented by depth."""
    depth: dict[int, int] = {0: -1}
    lines = []
    with engine.connect() as conn:
        for node, parent, _unused, detail in conn.execute(
            text("EXPLAIN QUERY PLAN " + sql_text(engine, kind))
        ):
            depth[node] = depth.get(parent, -1) + 1
            lines.append("  " * depth[node] + str(detail))
    return lines


def profile(engine: Engine, kind: QueryKind, runs: int = 5, top: int = 8) -> list[str]:
    """cProfile of ``rows()``: the functions with the most own time, per query."""
    planned, _ = _statement(kind)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(runs):
        list(index_query.rows(engine, planned, limit=LIMIT + 1, ordered=False))
    prof.disable()
    stats = pstats.Stats(prof, stream=io.StringIO())
    entries = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)  # type: ignore[attr-defined]
    total = sum(value[2] for _, value in entries) / runs * 1000
    lines = [f"{total:8.2f} ms/query in total (profiled)"]
    for (path, line, name), (_cc, calls, own, cumulative, _callers) in entries[:top]:
        where = name if path == "~" else f"{path.rsplit('/', 2)[-1]}:{line} {name}"
        lines.append(
            f"{own / runs * 1000:8.2f} ms own {cumulative / runs * 1000:8.2f} ms cum "
            f"{calls // runs:>7} calls  {where}"
        )
    return lines


def per_match_cost(engine: Engine, kind: QueryKind) -> tuple[float, float, int]:
    """(µs to build one C-FIND response, µs for pydicom to encode it, rows)."""
    planned, _ = _statement(kind)
    rows = list(index_query.rows(engine, planned, limit=LIMIT + 1, ordered=False))[:2000]
    if not rows:
        return 0.0, 0.0, 0
    wire = io.BytesIO(encode(kind.identifier(), True, True))
    identifier = decode(wire, True, True)  # as the SCP sees it: values still raw
    start = time.perf_counter()
    shape = ResponseShape.of(identifier, Level.STUDY, "PACS")
    responses = [shape.response(row) for row in rows]
    built = time.perf_counter()
    for ds in responses:
        encode(ds, True, True)
    done = time.perf_counter()
    scale = 1e6 / len(rows)
    return (built - start) * scale, (done - built) * scale, len(rows)
