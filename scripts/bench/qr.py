"""Query/retrieve benchmark: C-FIND study search latency on 10k and 200k studies, and C-MOVE of a
500-instance study, pacs side by side with Orthanc.

C-FIND: SQLite indexes of synthetic studies are written directly (cached under data/bench/qr/);
``pacs serve`` runs on each (``[dicom] workers = 0``, the in-process path, and the default worker
processes); one pynetdicom association (TCP_NODELAY) times N study-level queries of each kind,
from send to the final response. The archive grows by time at a constant rate (see qr_index),
so each kind answers about as many studies at 10k as at 200k: a patient-name prefix matching
~25 studies, today's studies (StudyDate=<today>-, ~40), MR studies of the last two days (~20),
and a name initial with MR in the last 30 days. Prints p50/p95, matches, the time
to the first match and the in-process SQL time; then the targets (p50 < 20 ms, p50 at 200k at most
2x p50 at 10k) and, for kinds that miss one, the SQL, its EXPLAIN QUERY PLAN and a cProfile.

C-MOVE: the study is stored into pacs and into Orthanc (the Debian package, started on its own
ports), then moved by DCMTK movescu to a DCMTK storescp; instances/s and pacs/Orthanc (target 1.0).

    scripts/bench/qr                      # full run
    scripts/bench/qr --quick              # smoke run: 2k/40k studies, 100-instance move
    scripts/bench/qr --skip-move --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import qr_profile
from qr_find import FindResult, run_size
from qr_index import IndexDb, load_or_build
from qr_move import MoveResult, load_study, run_move
from qr_queries import RETURN_KEYS, kinds
from qr_report import (
    find_targets,
    print_find,
    print_indexes,
    print_move,
    print_profile,
    print_split,
)
from receivers import PACS, REPO, ReceiverError

DATA = REPO / "data" / "bench" / "qr"
NPROC = os.cpu_count() or 1


def log(msg: str) -> None:
    print(msg, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sizes", help="index sizes in studies (default 10000,200000)")
    p.add_argument("--queries", type=int, help="timed queries per kind (default 50; 10 --quick)")
    p.add_argument("--budget", type=float, help="seconds per cell before stopping early (min 5)")
    p.add_argument("--workers", help="pacs [dicom] workers to test: 0 and/or default")
    p.add_argument("--move-instances", type=int, help="instances of the moved study (500)")
    p.add_argument("--move-repeat", type=int, help="C-MOVEs per source; median shown (3)")
    p.add_argument("--move-workers", type=int, help="pacs [dicom] workers for C-MOVE (default)")
    p.add_argument("--quick", action="store_true", help="smaller indexes, fewer queries")
    p.add_argument("--skip-find", action="store_true", help="no C-FIND part")
    p.add_argument("--skip-move", action="store_true", help="no C-MOVE part")
    p.add_argument("--no-profile", action="store_true", help="no profile of missed targets")
    p.add_argument("--pacs-cmd", default=PACS, help="pacs executable (+ args) before 'serve'")
    p.add_argument("--keep", action="store_true", help="keep server folders (debugging)")
    p.add_argument("--json", type=Path, help="also write the results as JSON here")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is not met")
    args = p.parse_args(argv)
    quick = args.quick
    args.sizes = [
        int(s) for s in (args.sizes or ("2000,40000" if quick else "10000,200000")).split(",")
    ]
    args.queries = args.queries or (10 if quick else 50)
    args.budget = args.budget or (5.0 if quick else 20.0)
    args.modes = (args.workers or ("0" if quick else "0,default")).split(",")
    args.move_instances = args.move_instances or (100 if quick else 500)
    args.move_repeat = args.move_repeat or (1 if quick else 3)
    return args


def _mode(name: str) -> tuple[str, int | None]:
    """A --workers entry as (label, [dicom] workers value; None leaves the default)."""
    if name == "default":
        return f"workers={NPROC}", None
    return f"workers={int(name)}", int(name)


def _load() -> str:
    """1/5/15-minute load averages: other work on the host skews latency."""
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def run_find(args: argparse.Namespace, dbs: list[IndexDb]) -> list[FindResult]:
    results: list[FindResult] = []
    for name in args.modes:
        label, workers = _mode(name)
        for db in dbs:
            log(f"C-FIND: {db.size} studies, pacs {label} ...")
            try:
                results += run_size(db, label, workers, runs=DATA / "runs", args=args, log=log)
            except (ReceiverError, RuntimeError) as exc:
                log(f"!! pacs on {db.size} studies ({label}) failed: {exc}")
                results.append(FindResult(db.size, label, "all", "-", error=str(exc)[:200]))
    return results


def sql_timings(args: argparse.Namespace, dbs: list[IndexDb]) -> dict[tuple[int, str], Any]:
    out = {}
    for db in dbs:
        engine = qr_profile.engine_for(db.url)
        for kind in kinds(db.stats):
            out[(db.size, kind.name)] = qr_profile.sql_timing(engine, kind, args.queries, 5.0)
        engine.dispose()
    return out


def profile_misses(dbs: list[IndexDb], target_lines: list[str]) -> None:
    """Profile, on the largest index, every kind with a target NOT MET."""
    db = max(dbs, key=lambda d: d.size)
    missed = {line.split()[1] for line in target_lines if "NOT MET" in line}
    engine = qr_profile.engine_for(db.url)
    for kind in kinds(db.stats):
        if kind.name not in missed:
            continue
        print_profile(
            f"{kind.name} query on {db.size} studies",
            sql=qr_profile.sql_text(engine, kind),
            plan=qr_profile.query_plan(engine, kind),
            prof=qr_profile.profile(engine, kind),
            costs=qr_profile.per_match_cost(engine, kind),
            log=log,
        )
    engine.dispose()


def find_part(args: argparse.Namespace, doc: dict[str, Any]) -> list[str]:
    dbs = [load_or_build(DATA, size, log) for size in args.sizes]
    results = run_find(args, dbs)
    sql = sql_timings(args, dbs)
    log("")
    log(
        f"C-FIND benchmark  {datetime.now().astimezone().isoformat(timespec='seconds')}  "
        f"host {platform.node()}  nproc={NPROC}  load {_load()}"
    )
    print_indexes(dbs, log)
    log(
        f"SCU: pynetdicom, one association, TCP_NODELAY; Study Root, level STUDY, "
        f"{len(RETURN_KEYS)} return keys, ISO_IR 192; {args.queries} timed queries per kind "
        f"(at least 5 when a cell exceeds {args.budget:.0f} s) after warm-up"
    )
    log(
        "columns: 1st = send to first match; sql = in-process pacs.index.query.rows() p50; "
        "srv/scu cpu = CPU ms per query of the pacs process tree / of this pynetdicom SCU"
    )
    print_find(results, sql, log)
    lines = find_targets(results, args.sizes, log)
    print_split(results, sql, log)
    if not args.no_profile and any("NOT MET" in line for line in lines):
        profile_misses(dbs, lines)
    doc["find"] = [
        {**{k: v for k, v in asdict(r).items() if k not in ("times", "firsts")},
         "p50_ms": r.p50() if r.times else None, "p95_ms": r.p95() if r.times else None,
         "first_p50_ms": r.first_p50(), "n": len(r.times),
         "sql_p50_ms": getattr(sql.get((r.size, r.kind)), "p50_ms", None)}
        for r in results
    ]  # fmt: skip
    doc["indexes"] = {db.size: db.stats for db in dbs}
    return lines


def move_part(args: argparse.Namespace, doc: dict[str, Any]) -> tuple[list[str], list[MoveResult]]:
    study = load_study(DATA, args.move_instances, log)
    results = run_move(study, DATA / "runs", args, log)
    workers = "default" if args.move_workers is None else args.move_workers
    context = f"pacs [dicom] workers={workers}; load {_load()}"
    lines = print_move(study, results, args.move_repeat, context, log)
    doc["move"] = [{**asdict(r), "inst_s": r.inst_s if r.walls else None} for r in results]
    return lines, results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` stops the servers
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / ".gitignore").write_text("*\n")  # generated data never goes into git
    doc: dict[str, Any] = {"time": datetime.now().astimezone().isoformat(timespec="seconds")}
    lines: list[str] = []
    failed = False
    if not args.skip_find:
        lines += find_part(args, doc)
        failed = any(r.get("error") for r in doc["find"])
    if not args.skip_move:
        move_lines, moves = move_part(args, doc)
        lines += move_lines
        failed = failed or not all(m.ok for m in moves)
    doc["targets"] = lines
    if args.json:
        args.json.write_text(json.dumps(doc, indent=2, default=str))
    unmet = any("NOT MET" in line for line in lines)
    return 2 if failed else 1 if args.strict and unmet else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
        sys.exit(130)
