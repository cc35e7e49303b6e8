"""Printed tables and target lines of the query/retrieve benchmark."""

from __future__ import annotations

import statistics
import textwrap
from collections.abc import Callable

from qr_find import FindResult
from qr_index import IndexDb
from qr_move import MoveResult, MoveStudy
from qr_profile import SqlTiming

TARGET_P50_MS = 20.0
TARGET_GROWTH = 2.0
TARGET_MOVE = 1.0
Log = Callable[[str], None]
SqlTimings = dict[tuple[int, str], SqlTiming]


def print_indexes(dbs: list[IndexDb], log: Log) -> None:
    for db in dbs:
        s = db.stats
        log(
            f"index {db.size:>7} studies: {s['patients']} patients, {s['series']} series, "
            f"{s['instances']} instance rows, {s['bytes'] / 1e6:.0f} MB  {db.path.name}"
        )


def print_find(results: list[FindResult], sql: SqlTimings, log: Log) -> None:
    log("")
    log(
        f"  {'studies':>7} {'server':<10} {'query':<9} {'matches':>7} {'p50 ms':>8} "
        f"{'p95 ms':>8} {'1st ms':>7} {'sql ms':>7} {'srv cpu':>7} {'scu cpu':>7} {'n':>4}"
        "  query keys / problem"
    )
    for r in results:
        timing = sql.get((r.size, r.kind))
        first = r.first_p50()
        if not r.times:
            log(f"  {r.size:>7} {r.mode:<10} {r.kind:<9} {'-':>7} failed: {r.error}")
            continue
        extra = f"  [{r.error or r.note}]" if r.error or r.note else ""
        matches = None if r.kind == "echo" else r.matches
        log(
            f"  {r.size:>7} {r.mode:<10} {r.kind:<9} {_num(matches)} "
            f"{r.p50():>8.2f} {r.p95():>8.2f} {_num(first, 7)} "
            f"{_num(timing.p50_ms if timing else None, 7)} {r.server_cpu * 1000:>7.2f} "
            f"{r.client_cpu * 1000:>7.2f} {len(r.times):>4}  {r.label}{extra}"
        )


def _num(value: float | None, width: int = 7) -> str:
    if value is None:
        return f"{'-':>{width}}"
    return f"{value:>{width}}" if isinstance(value, int) else f"{value:>{width}.2f}"


def print_split(results: list[FindResult], sql: SqlTimings, log: Log) -> None:
    """p50 as floor (C-ECHO round trip) + in-process SQL + the rest, spread over the matches."""
    floors = {(r.size, r.mode): r.p50() for r in results if r.kind == "echo" and r.times}
    log("")
    log("where the p50 goes: C-ECHO floor + in-process SQL + the rest (per match: rest / matches)")
    log(f"  {'studies':>7} {'server':<10} {'query':<9} {'p50':>8} {'floor':>6} {'sql':>7} "
        f"{'rest':>8} {'matches':>7} {'ms/match':>8}")  # fmt: skip
    for r in results:
        timing, floor = sql.get((r.size, r.kind)), floors.get((r.size, r.mode))
        if r.kind == "echo" or not r.times or timing is None or floor is None:
            continue
        rest = r.p50() - floor - timing.p50_ms
        per = f"{rest / r.matches:8.2f}" if r.matches else f"{'-':>8}"
        log(
            f"  {r.size:>7} {r.mode:<10} {r.kind:<9} {r.p50():>8.2f} {floor:>6.2f} "
            f"{timing.p50_ms:>7.2f} {rest:>8.2f} {r.matches:>7} {per}"
        )


def _verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def find_targets(results: list[FindResult], sizes: list[int], log: Log) -> list[str]:
    """p50 < 20 ms for every cell; p50(largest) / p50(smallest) <= 2 per server mode and kind."""
    small, large = min(sizes), max(sizes)
    lines: list[str] = []
    cells = {(r.mode, r.kind, r.size): r for r in results}
    for mode, kind in dict.fromkeys((r.mode, r.kind) for r in results if r.kind != "echo"):
        parts = []
        for size in sorted(sizes):
            r = cells.get((mode, kind, size))
            ok = r is not None and r.ok and r.p50() < TARGET_P50_MS
            p50 = f"{r.p50():.1f}" if r is not None and r.times else "n/a"
            parts.append(f"{size // 1000}k {p50} ms {_verdict(ok)}")
        a, b = cells.get((mode, kind, small)), cells.get((mode, kind, large))
        if a is not None and b is not None and a.times and b.times and small != large:
            growth = b.p50() / a.p50()
            matches = f"{b.matches / a.matches:.1f}x" if a.matches else f"{a.matches}->{b.matches}"
            parts.append(
                f"growth {growth:.2f}x (matches {matches}) "
                f"{_verdict(growth <= TARGET_GROWTH and a.ok and b.ok)}"
            )
        lines.append(f"  {mode:<10} {kind:<9} " + "; ".join(parts))
    log("")
    log(
        f"C-FIND targets: p50 < {TARGET_P50_MS:.0f} ms; p50 at {large // 1000}k <= "
        f"{TARGET_GROWTH:.0f}x p50 at {small // 1000}k"
    )
    for line in lines:
        log(line)
    return lines


def print_move(
    study: MoveStudy, results: list[MoveResult], repeat: int, context: str, log: Log
) -> list[str]:
    log("")
    log(
        f"C-MOVE of one study: {study.count} x CT 256x256x16 bit, {study.nbytes / 1e6:.0f} MB, "
        f"movescu -S -aem DEST -> DCMTK storescp; median of {repeat} (of those that delivered "
        f"all {study.count}); {context}"
    )
    log(f"  {'source':<10} {'wall s':>8} {'inst/s':>9} {'MB/s':>7} {'src CPU s':>9}  check")
    for r in results:
        if r.walls:  # the moves that delivered every instance
            mb_s = study.nbytes / 1e6 / r.wall
            cpu = statistics.median(r.cpus)
            check = "ok" if r.ok else f"{r.label} C-MOVE: failed ({r.error})"
            log(
                f"  {r.label:<10} {r.wall:>8.2f} {r.inst_s:>9.1f} {mb_s:>7.1f} {cpu:>9.2f}  {check}"
            )
        else:
            dashes = " ".join(f"{'-':>{w}}" for w in (8, 9, 7, 9))
            log(f"  {r.label:<10} {dashes}  {r.label} C-MOVE: failed ({r.error})")
    by_label = {r.label: r for r in results}
    pacs, orthanc = by_label.get("pacs"), by_label.get("orthanc")
    goal = f"target >= {TARGET_MOVE:.2f}"
    if pacs and orthanc and pacs.ok and orthanc.ok:
        ratio = pacs.inst_s / orthanc.inst_s
        line = f"  pacs / Orthanc (inst/s)  {ratio:5.2f} {goal}  {_verdict(ratio >= TARGET_MOVE)}"
    else:
        why = "pacs failed" if not (pacs and pacs.ok) else "Orthanc failed"
        if pacs and orthanc and pacs.walls and orthanc.walls:
            why += f"; {pacs.inst_s / orthanc.inst_s:.2f} over the moves that succeeded"
        line = f"  pacs / Orthanc (inst/s)  n/a   ({why}; {goal})"
    log("ratio:")
    log(line)
    return [line]


def print_profile(
    title: str,
    *,
    sql: str,
    plan: list[str],
    prof: list[str],
    costs: tuple[float, float, int],
    log: Log,
) -> None:
    log("")
    log(f"--- {title}: in-process profile")
    log("SQL (pacs.index.query.statement, literal binds; the select list shortened):")
    flat = " ".join(sql.split())
    select, found, rest = flat.partition(" FROM ")
    if found:
        flat = f"SELECT <{select.count(' AS ')} columns> FROM {rest}"
    for line in textwrap.wrap(flat, 96):
        log(f"    {line}")
    log("EXPLAIN QUERY PLAN:")
    for line in plan:
        log(f"    {line}")
    log("cProfile of pacs.index.query.rows (per query):")
    for line in prof:
        log(f"    {line}")
    build, encoded, rows = costs
    if rows:
        log(
            f"per match (over {rows} rows): response {build:.0f} us + pydicom encode "
            f"{encoded:.0f} us in the SCP handler thread"
        )
