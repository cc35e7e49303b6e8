"""Ingest benchmark: DCMTK storescu → {DCMTK storescp, bare pynetdicom SCP, pacs}, side by side.

Sends a cached synthetic CT corpus (512x512x16 bit, Explicit VR LE) with 1 and with N parallel
storescu senders to each receiver (started fresh per run on free loopback ports), verifies the
stored file count, prints inst/s and MB/s, the pacs ratios against their targets, and the peak
RSS growth of pacs (and the bare SCP) while receiving one ~1 GB object.

    scripts/bench/ingest                          # full run: 2000 instances + 1 GB object
    scripts/bench/ingest --quick --skip-pacs      # smoke run: 200 instances, no 1 GB object
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from corpus import Corpus, load_or_build
from large import LargeResult, print_large, run_large
from procinfo import cpu_seconds
from receivers import LABELS, PACS, REPO, Receiver, ReceiverError, running
from senders import send

DATA = REPO / "data" / "bench"
TARGET_BARE, TARGET_STORESCP = 0.90, 0.50


@dataclass
class Run:
    kind: str
    senders: int
    wall: float
    inst_s: float
    mb_s: float
    cpu_s: float
    ok: bool
    note: str = ""


def log(msg: str) -> None:
    print(msg, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--instances", type=int, help="corpus size (default 2000; 200 with --quick)")
    p.add_argument("--studies", type=int, default=20, help="studies (2 series each; default 20)")
    p.add_argument("--parallel", type=int, default=4, help="parallel senders (default 4)")
    p.add_argument("--quick", action="store_true", help="200 instances, no 1 GB object")
    p.add_argument("--skip-pacs", action="store_true", help="benchmark storescp + bare SCP only")
    p.add_argument("--pacs-cmd", default=PACS, help="pacs executable (+ args) before 'serve'")
    p.add_argument("--receivers", default="storescp,bare,durable,pacs", help="comma list to run")
    p.add_argument("--no-large", action="store_true", help="skip the 1 GB object test")
    p.add_argument("--large-frames", type=int, default=2000, help="frames (512 KiB each)")
    p.add_argument("--repeat", type=int, default=1, help="runs per cell; the median is shown")
    p.add_argument(
        "--storescp-single",
        action="store_true",
        help="run storescp single-process (default --fork: one child per association)",
    )
    p.add_argument("--keep", action="store_true", help="keep receiver folders (debugging)")
    p.add_argument("--json", type=Path, help="also write the results as JSON here")
    p.add_argument("--strict", action="store_true", help="exit 1 when a pacs target is not met")
    args = p.parse_args(argv)
    if args.instances is None:
        args.instances = 200 if args.quick else 2000
    args.kinds = [k for k in args.receivers.split(",") if k in LABELS]
    if args.skip_pacs and "pacs" in args.kinds:
        args.kinds.remove("pacs")
    args.large = not (args.quick or args.no_large)
    return args


def _wait_files(rcv: Receiver, expected: int, timeout: float = 15) -> int:
    deadline = time.monotonic() + timeout
    while True:
        count = len(rcv.files())
        if count >= expected or time.monotonic() > deadline:
            return count
        time.sleep(0.2)


def run_once(
    kind: str, folders: list[Path], count: int, nbytes: int, args: argparse.Namespace
) -> Run:
    n = len(folders)
    opts = {"storescp_fork": not args.storescp_single, "keep": args.keep, "pacs_cmd": args.pacs_cmd}
    with running(kind, DATA / "runs", **opts) as rcv:
        cpu0 = _cpu(rcv)
        try:
            res = send(rcv.ae_title, rcv.port, folders, rcv.workdir)
        except subprocess.TimeoutExpired:
            return Run(kind, n, 0, 0, 0, 0, False, "storescu timed out")
        stored = _wait_files(rcv, count)
        cpu = _cpu(rcv) - cpu0
        notes = []
        if not res.ok:
            log(f"  ! storescu failed:\n{res.failure()}\n  receiver log tail:\n{rcv.log_tail()}")
            notes.append(f"storescu exit {res.returncodes}")
        if stored != count:
            notes.append(f"stored {stored}/{count}")
    ok = not notes
    return Run(
        kind,
        n,
        res.wall,
        count / res.wall,
        nbytes / 1e6 / res.wall,
        cpu,
        ok,
        "; ".join(notes) or "ok",
    )


def _cpu(rcv: Receiver) -> float:
    return cpu_seconds(rcv.proc.pid)


def run_matrix(
    args: argparse.Namespace, corpus: Corpus
) -> tuple[dict[tuple[str, int], Run], list[str]]:
    results: dict[tuple[str, int], Run] = {}
    skipped: list[str] = []
    plans = [(1, [corpus.root]), (len(corpus.parts), corpus.parts)]
    for kind in args.kinds:
        for n, folders in plans:
            runs: list[Run] = []
            try:
                for i in range(args.repeat):
                    log(f"run: {LABELS[kind]} x {n} sender(s) [{i + 1}/{args.repeat}] ...")
                    runs.append(run_once(kind, folders, corpus.count, corpus.nbytes, args))
                    log(
                        f"  {runs[-1].inst_s:8.1f} inst/s  {runs[-1].mb_s:7.1f} MB/s  "
                        f"{runs[-1].note}"
                    )
            except ReceiverError as exc:
                log(f"!! {LABELS[kind]} receiver could not be started: {exc}")
                log(f"!! skipping {LABELS[kind]}; continuing with the others")
                skipped.append(kind)
                break
            runs.sort(key=lambda r: r.wall)
            results[(kind, n)] = runs[len(runs) // 2]
    return results, skipped


def _ratio_line(
    results: dict[tuple[str, int], Run],
    label: str,
    num: tuple[str, int],
    den: tuple[str, int],
    target: float | None,
) -> str:
    """One ratio; ``target`` None marks a line that is context (no target)."""
    goal = "context" if target is None else f"target >= {target:.2f}"
    a, b = results.get(num), results.get(den)
    if a is None or b is None or not (a.ok and b.ok):
        why = "pacs skipped/failed" if a is None or not a.ok else "baseline skipped/failed"
        return f"  {label:<42} n/a   ({why}; {goal})"
    ratio = a.inst_s / b.inst_s
    verdict = "" if target is None else ("MET" if ratio >= target else "NOT MET")
    return f"  {label:<42} {ratio:5.2f} {goal}  {verdict}".rstrip()


def print_report(
    args: argparse.Namespace,
    corpus: Corpus,
    results: dict[tuple[str, int], Run],
    skipped: list[str],
) -> list[str]:
    n = len(corpus.parts)
    log("")
    log(
        f"Ingest benchmark  {datetime.now().astimezone().isoformat(timespec='seconds')}  "
        f"host {platform.node()}  nproc={os.cpu_count()}"
    )
    log(
        f"corpus: {corpus.count} x CT 512x512x16 bit, {corpus.nbytes / 1e6:.0f} MB "
        f"({args.studies} studies x 2 series), {corpus.root}"
    )
    log(
        f"senders: DCMTK storescu, TCP_NODELAY=1, max PDU 131072; MB = 10^6 bytes of files; "
        f"median of {args.repeat}"
    )
    log("")
    log(
        f"  {'receiver':<17} {'senders':>7} {'wall s':>8} {'inst/s':>9} {'MB/s':>8} "
        f"{'rcv CPU s':>9}  check"
    )
    for (kind, senders), r in results.items():
        log(
            f"  {LABELS[kind]:<17} {senders:>7} {r.wall:>8.2f} {r.inst_s:>9.1f} {r.mb_s:>8.1f} "
            f"{r.cpu_s:>9.1f}  {r.note}"
        )
    for kind in skipped:
        log(f"  {LABELS[kind]:<17} {'-':>7} {'skipped: receiver did not start':>38}")
    log("")
    lines = [
        _ratio_line(
            results, "pacs / bare-pynetdicom (1 sender)", ("pacs", 1), ("bare", 1), TARGET_BARE
        ),
        _ratio_line(
            results,
            f"pacs / dcmtk-storescp ({n} senders)",
            ("pacs", n),
            ("storescp", n),
            TARGET_STORESCP,
        ),
    ]
    lines.append(
        _ratio_line(results, "pacs / bare-durable (1 sender)", ("pacs", 1), ("durable", 1), None)
    )
    log("ratios (inst/s):")
    for line in lines:
        log(line)
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` stops the receivers
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / ".gitignore").write_text("*\n")  # generated data never goes into git
    corpus = load_or_build(DATA / "corpus", args.instances, args.studies, args.parallel, log)
    results, skipped = run_matrix(args, corpus)
    large: list[LargeResult] = []
    if args.large:
        large = run_large(args, DATA, log)
    ratios = print_report(args, corpus, results, skipped)
    if large:
        print_large(large, log)
    if args.json:
        doc = {
            "runs": [asdict(r) for r in results.values()],
            "skipped": skipped,
            "large": [asdict(x) for x in large],
            "ratios": ratios,
            "nproc": os.cpu_count(),
            "time": datetime.now().astimezone().isoformat(timespec="seconds"),
        }
        args.json.write_text(json.dumps(doc, indent=2))
    failed = any(not r.ok for r in results.values()) or any(not x.ok for x in large)
    unmet = any("NOT MET" in line for line in ratios)
    return 2 if failed else 1 if args.strict and unmet else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; receivers stopped", file=sys.stderr)
        sys.exit(130)
