"""Large-object test: one ~1 GB instance via storescu; the receiver's peak RSS growth."""

from __future__ import annotations

import argparse
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from corpus import load_or_build_large
from procinfo import RssSampler, reset_hwm, tree_kb
from receivers import LABELS, Receiver, ReceiverError, running
from senders import send

TARGET_MB = 100.0
KINDS = ("pacs", "bare")  # storescp is not measured: with --fork the work happens in a child

Log = Callable[[str], None]


@dataclass
class LargeResult:
    kind: str
    nbytes: int
    wall: float
    rss_before_mb: float
    hwm_growth_mb: float | None  # VmHWM after - VmRSS before, HWM reset via clear_refs
    sampled_growth_mb: float  # max sampled VmRSS (every 50 ms) - VmRSS before
    ok: bool
    note: str = ""

    @property
    def growth_mb(self) -> float:
        return self.sampled_growth_mb if self.hwm_growth_mb is None else self.hwm_growth_mb


def _stored_size(rcv: Receiver, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while True:
        files = rcv.files()
        if files or time.monotonic() > deadline:
            return sum(f.stat().st_size for f in files)
        time.sleep(0.2)


def measure(kind: str, path: Path, work: Path, args: argparse.Namespace) -> LargeResult:
    nbytes = path.stat().st_size
    with running(kind, work, keep=args.keep, pacs_cmd=args.pacs_cmd) as rcv:
        pid = rcv.proc.pid
        before = tree_kb(pid, "VmRSS")
        reset = reset_hwm(pid)
        sampler = RssSampler(pid)
        sampler.start()
        try:
            res = send(rcv.ae_title, rcv.port, [path.parent], rcv.workdir, timeout=1800)
        except subprocess.TimeoutExpired:
            sampler.stop()
            return LargeResult(kind, nbytes, 0, before / 1024, None, 0, False, "storescu timeout")
        hwm = tree_kb(pid, "VmHWM") if reset else None
        peak = sampler.stop()
        stored = _stored_size(rcv)
        if not res.ok:
            print(f"  ! storescu failed:\n{res.failure()}\n  receiver log:\n{rcv.log_tail()}")
    notes = [] if res.ok else [f"storescu exit {res.returncodes}"]
    if stored < nbytes - 4096:  # receivers may rewrite the file meta, so allow a little slack
        notes.append(f"stored {stored} of {nbytes} bytes")
    growth = None if hwm is None else (hwm - before) / 1024
    return LargeResult(
        kind,
        nbytes,
        res.wall,
        before / 1024,
        growth,
        (peak - before) / 1024,
        not notes,
        "; ".join(notes) or "ok",
    )


def run_large(args: argparse.Namespace, data: Path, log: Log) -> list[LargeResult]:
    path = load_or_build_large(data / "corpus", args.large_frames, log)
    out = []
    for kind in (k for k in KINDS if k in args.kinds):
        log(f"large: {LABELS[kind]} ← {path.stat().st_size / 1e6:.0f} MB ...")
        try:
            out.append(measure(kind, path, data / "runs", args))
        except ReceiverError as exc:
            log(f"!! {LABELS[kind]} receiver could not be started: {exc}; skipping large test")
            continue
        log(f"  growth {out[-1].growth_mb:.0f} MB, {out[-1].note}")
    return out


def print_large(results: list[LargeResult], log: Log) -> None:
    log("")
    log("large object (one instance), receiver peak RSS growth while receiving:")
    log(
        f"  {'receiver':<17} {'MB':>6} {'wall s':>7} {'MB/s':>7} {'RSS before':>10} "
        f"{'HWM growth':>10} {'sampled':>8}  check"
    )
    for r in results:
        hwm = "n/a" if r.hwm_growth_mb is None else f"{r.hwm_growth_mb:.0f} MB"
        log(
            f"  {LABELS[r.kind]:<17} {r.nbytes / 1e6:>6.0f} {r.wall:>7.1f} "
            f"{r.nbytes / 1e6 / max(r.wall, 1e-9):>7.1f} {r.rss_before_mb:>7.0f} MB "
            f"{hwm:>10} {r.sampled_growth_mb:>5.0f} MB  {r.note}"
        )
    for r in results:
        if r.kind == "pacs":
            verdict = "MET" if r.ok and r.growth_mb < TARGET_MB else "NOT MET"
            log(
                f"  pacs peak RSS growth {r.growth_mb:.0f} MB, target < {TARGET_MB:.0f} MB  "
                f"{verdict}"
            )
