"""Imaging benchmark: pacs's transcode layer vs the codec libraries it calls, render latency, and
threads vs processes for the transcoder's pool.

Images (made in memory, Explicit VR Little Endian): a CT-like 512x512 slice, 12 bits in 16, and a
photo-like 1024x1024 RGB 8-bit picture. For each target syntax the image allows:
  encode  transcode(ds, uid)  vs  the library call pacs makes for uid (same function, same
          parameters, same numpy array: imagecodecs / jpeg_ls / pylibjpeg-rle)
  decode  transcode(compressed, Explicit VR LE)  vs  the decoder pydicom tries first for the
          syntax, called on the frame bytes (--decode-direct pixel_array: pydicom's pixel_array)
MB/s = 10^6 bytes of uncompressed pixel data per second; pacs and direct calls alternate and the
median of each is shown. Target: every pacs/direct ratio >= 0.80.
render  p50/p95 of pacs.imaging.render: CT -> JPEG (target p50 < 30 ms), CT -> PNG, RGB -> JPEG.
pool    20 CT -> JPEG 2000 Lossless transcodes: sequential, ThreadPoolExecutor(2), and 2 worker
        processes via trio_parallel.run_sync; inst/s, and how late a 1 ms sleeper in the calling
        thread wakes meanwhile (what the DICOM edge sharing the process would feel).

    scripts/bench/imaging                      # full run (under two minutes)
    scripts/bench/imaging --quick              # shorter cells, fewer render runs, 1 pool round
    scripts/bench/imaging --profile ct:rle     # cProfile pacs's encode of one cell (:decode too)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import imagecodecs
import numpy as np
import pydicom
import trio
import trio_parallel
from imaging_cases import Cell, Image, find_syntax, images, profile, run_cell, timed

from pacs.imaging import syntaxes as ts
from pacs.imaging.pixels import PixelFormat
from pacs.imaging.transcode import transcode

TARGET_RATIO, TARGET_RENDER_MS = 0.80, 30.0
HEARTBEAT = 0.001


def log(msg: str = "") -> None:
    print(msg, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="0.15 s cells, 20 renders, 1 pool round")
    p.add_argument("--budget", type=float, help="seconds per side per cell (default 0.5)")
    p.add_argument("--images", default="ct,rgb", help="comma list of images (ct, rgb)")
    p.add_argument("--only", help="comma list of syntaxes (.90, 201, rle, full UID)")
    p.add_argument("--decode-direct", choices=("plugin", "pixel_array"), default="plugin")
    p.add_argument("--render-runs", type=int, help="renders per case (default 50; 20 with --quick)")
    p.add_argument("--instances", type=int, default=20, help="transcodes per pool run")
    p.add_argument("--workers", type=int, default=2, help="threads / processes in the pool runs")
    p.add_argument("--rounds", type=int, help="pool rounds, median shown (default 3; 1 --quick)")
    p.add_argument("--skip-codecs", action="store_true", help="no encode/decode table")
    p.add_argument("--skip-render", action="store_true", help="no render latency")
    p.add_argument("--skip-pool", action="store_true", help="no threads-vs-processes run")
    p.add_argument("--profile", metavar="IMAGE:SYNTAX[:decode]", help="cProfile one cell, exit")
    p.add_argument("--json", type=Path, help="also write the results as JSON here")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is not met")
    args = p.parse_args(argv)
    args.budget = args.budget or (0.15 if args.quick else 0.5)
    args.render_runs = args.render_runs or (20 if args.quick else 50)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.images = [k.strip() for k in args.images.split(",")]
    args.only = {find_syntax(s) for s in args.only.split(",")} if args.only else None
    return args


# -- encode / decode table -----------------------------------------------------------------------


def run_codecs(imgs: list[Image], args: argparse.Namespace) -> list[Cell]:
    cells = []
    for image in imgs:
        for uid in image.syntaxes:
            if args.only and uid not in args.only:
                continue
            cells.append(run_cell(image, uid, args.budget, args.decode_direct))
            c = cells[-1]
            log(
                f"  {c.image:<4} {c.label:<27} enc {c.enc_ratio:5.2f}  dec {c.dec_ratio:5.2f}"
                f"  {c.check}"
            )
    return cells


def print_codecs(cells: list[Cell]) -> list[str]:
    if not cells:
        return []
    log(f"{'':<35}{'----- encode MB/s -----':>25}   {'----- decode MB/s -----':>25}")
    log(
        f"  {'image':<6}{'syntax':<27}{'pacs':>9}{'direct':>9}{'ratio':>7}   "
        f"{'pacs':>9}{'direct':>9}{'ratio':>7}{'comp':>8}  {'2 threads':>9}  "
        f"{'direct decoder':<19} check"
    )
    for c in cells:
        log(
            f"  {c.image:<6}{c.label:<27}{c.enc_pacs:>9.1f}{c.enc_direct:>9.1f}{c.enc_ratio:>7.2f}"
            f"   {c.dec_pacs:>9.1f}{c.dec_direct:>9.1f}{c.dec_ratio:>7.2f}{c.compression:>7.2f}x"
            f"  {c.enc_threads:>4.2f}/{c.dec_threads:<4.2f}  {c.decoder:<19} {c.check}"
        )
    lines = []
    for what, key in (("encode", "enc_ratio"), ("decode", "dec_ratio")):
        worst = min(cells, key=lambda c: getattr(c, key))
        lines.append(_verdict(f"worst {what}: {worst.image} {worst.label}", getattr(worst, key)))
    overall = min(min(c.enc_ratio, c.dec_ratio) for c in cells)
    lines.append(_verdict("worst overall (pacs / direct, MB/s)", overall))
    for c in cells:
        for what, ratio in (("encode", c.enc_ratio), ("decode", c.dec_ratio)):
            if ratio < TARGET_RATIO:
                lines.append(f"    below target: {c.image} {c.label.strip()} {what} {ratio:.2f}")
    log()
    log("ratios:")
    for line in lines:
        log(line)
    return lines


def _verdict(label: str, ratio: float) -> str:
    met = "MET" if ratio >= TARGET_RATIO else "NOT MET"
    return f"  {label:<48} {ratio:5.2f}  target >= {TARGET_RATIO:.2f}  {met}"


# -- render latency ------------------------------------------------------------------------------


def run_render(imgs: list[Image], args: argparse.Namespace) -> tuple[list[dict[str, Any]], str]:
    try:
        from pacs.imaging.render import RenderOptions, render
    except Exception as exc:  # being written: any import failure means "not yet"
        return [], f"render: not available ({type(exc).__name__}: {exc})"
    by_key = {i.key: i for i in imgs}
    plans: list[tuple[str, pydicom.Dataset, str, float | None]] = []
    if "ct" in by_key:
        ct = by_key["ct"].ds
        plans += [("CT 512x512 -> JPEG", ct, "jpeg", TARGET_RENDER_MS)]
        plans += [("CT 512x512 -> PNG", ct, "png", None)]
        plans += [("CT stored as .90 -> JPEG", transcode(ct, ts.J2K_LOSSLESS), "jpeg", None)]
    if "rgb" in by_key:
        plans += [("RGB 1024x1024 -> JPEG", by_key["rgb"].ds, "jpeg", None)]
    rows = []
    for label, ds, fmt, target in plans:
        opts = RenderOptions(fmt=fmt)
        size = len(render(ds, opts))  # warm-up
        call = partial(render, ds, opts)
        times = sorted(1e3 * timed(call) for _ in range(args.render_runs))
        p50, p95 = statistics.median(times), times[min(len(times) - 1, int(0.95 * len(times)))]
        rows.append({"case": label, "p50_ms": p50, "p95_ms": p95, "bytes": size, "target": target})
    return rows, ""


def print_render(rows: list[dict[str, Any]], note: str, runs: int) -> list[str]:
    log()
    if note:
        log(note)
        return [note]
    log(f"render (pacs.imaging.render, quality 90, {runs} warm runs each):")
    lines = []
    for r in rows:
        goal = "context"
        if r["target"] is not None:
            met = "MET" if r["p50_ms"] < r["target"] else "NOT MET"
            goal = f"target p50 < {r['target']:.0f} ms  {met}"
            lines.append(f"  render {r['case']}: p50 {r['p50_ms']:.1f} ms  {goal}")
        log(
            f"  {r['case']:<26} p50 {r['p50_ms']:6.1f} ms  p95 {r['p95_ms']:6.1f} ms  "
            f"{r['bytes'] / 1e3:7.1f} kB  {goal}"
        )
    return lines


# -- threads vs processes ------------------------------------------------------------------------


@dataclass
class PoolRun:
    job: str
    mode: str
    wall: float
    inst_s: float
    cpu_wall: float  # this process's CPU seconds per wall second
    host_busy: float | None  # busy share of all the host's CPUs (/proc/stat), others included
    lag_p99_ms: float | None  # how late a 1 ms sleep in the calling thread woke
    lag_max_ms: float | None


def _host_jiffies() -> tuple[int, int] | None:
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    return sum(values) - values[3] - values[4], sum(values)  # (busy, total); idle + iowait


class _Clock:
    def __init__(self) -> None:
        self.t0, self.c0, self.j0 = time.perf_counter(), time.process_time(), _host_jiffies()

    def result(self, job: str, mode: str, n: int, lags: list[float]) -> PoolRun:
        wall, cpu = time.perf_counter() - self.t0, time.process_time() - self.c0
        j1, busy = _host_jiffies(), None
        if self.j0 and j1 and j1[1] > self.j0[1]:
            busy = (j1[0] - self.j0[0]) / (j1[1] - self.j0[1])
        p99 = 1e3 * float(np.percentile(lags, 99)) if lags else None
        peak = 1e3 * max(lags) if lags else None
        return PoolRun(job, mode, wall, n / wall, cpu / wall, busy, p99, peak)


def _threads(job: Callable[..., Any], jobargs: tuple[Any, ...], n: int, w: int) -> list[float]:
    lags = []
    with ThreadPoolExecutor(w) as pool:
        futures = [pool.submit(job, *jobargs) for _ in range(n)]
        while not all(f.done() for f in futures):
            t0 = time.perf_counter()
            time.sleep(HEARTBEAT)
            lags.append(time.perf_counter() - t0 - HEARTBEAT)
        for f in futures:
            f.result()
    return lags


async def _processes(run: Callable[[], Awaitable[Any]], n: int) -> list[float]:
    lags: list[float] = []
    async with trio.open_nursery() as nursery:
        for _ in range(n):
            nursery.start_soon(run)
        while nursery.child_tasks:
            t0 = time.perf_counter()
            await trio.sleep(HEARTBEAT)
            lags.append(time.perf_counter() - t0 - HEARTBEAT)
    return lags


async def _pool(
    jobs: list[tuple[str, Callable[..., Any], tuple[Any, ...]]], args: argparse.Namespace
) -> list[PoolRun]:
    n, w = args.instances, args.workers
    runs: list[PoolRun] = []
    for name, job, jobargs in jobs:
        run = partial(trio_parallel.run_sync, job, *jobargs, limiter=trio.CapacityLimiter(w))
        async with trio.open_nursery() as nursery:  # start the workers, import pacs in them
            for _ in range(w):
                nursery.start_soon(run)
        for _ in range(args.rounds):
            clock = _Clock()
            for _ in range(n):
                job(*jobargs)
            runs.append(clock.result(name, "sequential", n, []))
            clock = _Clock()
            lags = _threads(job, jobargs, n, w)
            runs.append(clock.result(name, f"threads ({w})", n, lags))
            clock = _Clock()
            lags = await _processes(run, n)
            runs.append(clock.result(name, f"processes ({w})", n, lags))
    return runs


def run_pool(imgs: list[Image], args: argparse.Namespace) -> list[PoolRun]:
    from pacs.imaging.files import perform
    from pacs.messages import TranscodeRequest

    ct = next(i for i in imgs if i.key == "ct").ds
    j2k = transcode(ct, ts.J2K_LOSSLESS)
    with tempfile.TemporaryDirectory(prefix="pacs-bench-imaging-") as tmp:
        request = TranscodeRequest(path=Path(tmp) / "ct.dcm", transfer_syntax=ts.J2K_LOSSLESS)
        ct.save_as(request.path, enforce_file_format=True)
        jobs = [
            ("transcode(ds) -> .90", transcode, (ct, ts.J2K_LOSSLESS)),
            ("perform(file) -> .90", perform, (request,)),
            ("transcode(.90 ds) -> .1", transcode, (j2k, ts.EXPLICIT_LE)),
        ]
        runs = trio.run(_pool, jobs, args)
    medians = []
    for key in dict.fromkeys((r.job, r.mode) for r in runs):
        same = sorted((r for r in runs if (r.job, r.mode) == key), key=lambda r: r.wall)
        medians.append(same[len(same) // 2])
    return medians


def _opt(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def print_pool(runs: list[PoolRun], args: argparse.Namespace) -> list[str]:
    log()
    log(
        f"transcoder pool: {args.instances} x CT 512x512 to and from JPEG 2000 Lossless, "
        f"median of {args.rounds} round(s), nproc={os.cpu_count()}"
    )
    log("  transcode(ds): data set in and out; perform(file): the transcoder actor's job (file in,")
    log("  Part 10 bytes out); .90 ds -> .1: decode to Explicit VR LE. lag: lateness of a 1 ms")
    log("  sleep in the calling thread meanwhile.")
    log(
        f"  {'job':<25}{'mode':<15}{'wall s':>7}{'inst/s':>8}{'vs seq':>8}{'CPU/wall':>9}"
        f"{'host busy':>10}{'lag p99 ms':>11}{'lag max ms':>11}"
    )
    lines = []
    for r in runs:
        seq = next(x for x in runs if x.job == r.job and x.mode == "sequential")
        busy = _opt(None if r.host_busy is None else 100 * r.host_busy, ".0f") + "%"
        log(
            f"  {r.job:<25}{r.mode:<15}{r.wall:>7.2f}{r.inst_s:>8.1f}{r.inst_s / seq.inst_s:>7.2f}x"
            f"{r.cpu_wall:>9.2f}{busy:>10}{_opt(r.lag_p99_ms, '.1f'):>11}"
            f"{_opt(r.lag_max_ms, '.1f'):>11}"
        )
        lines.append(f"  pool {r.job} {r.mode}: {r.inst_s:.1f} inst/s")
    return lines


# -- main ----------------------------------------------------------------------------------------


def header(imgs: list[Image], args: argparse.Namespace) -> None:
    log()
    log(
        f"Imaging benchmark  {datetime.now().astimezone().isoformat(timespec='seconds')}  "
        f"host {platform.node()}  nproc={os.cpu_count()}  python {platform.python_version()}"
    )
    log(
        f"pydicom {pydicom.__version__}, imagecodecs {imagecodecs.__version__}, "
        f"numpy {np.__version__}; quality 90 for lossy targets; "
        f"load average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    for i in imgs:
        fmt = PixelFormat.of(i.ds)
        log(f"image {i.label}: {fmt.columns}x{fmt.rows} {fmt.describe()}, {i.nbytes / 1e6:.2f} MB")
    log(
        f"MB/s = 10^6 bytes of uncompressed pixel data per second; median of alternating pacs/"
        f"direct calls, >= {args.budget:g} s each per cell; comp = uncompressed / frame bytes"
    )
    log(
        "2 threads = pacs encode/decode throughput on 2 threads over 1 thread (about 2: the "
        "codec releases the GIL; about 1: it holds it)"
    )
    log()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    imgs = [i for i in images() if i.key in args.images]
    if args.profile:
        profile(imgs, args.profile, log)
        return 0
    cells: list[Cell] = []
    if not args.skip_codecs:
        log("encode/decode cells (pacs/direct ratios):")
        cells = run_codecs(imgs, args)
    render_rows, render_note = ([], "render: skipped")
    if not args.skip_render:
        log("render ...")
        render_rows, render_note = run_render(imgs, args)
    pool: list[PoolRun] = []
    if not args.skip_pool and "ct" in args.images:
        log("transcoder pool ...")
        pool = run_pool(imgs, args)
    header(imgs, args)
    lines = print_codecs(cells)
    lines += print_render(render_rows, render_note, args.render_runs)
    if pool:
        lines += print_pool(pool, args)
    if args.json:
        doc = {
            "cells": [
                asdict(c) | {"enc_ratio": c.enc_ratio, "dec_ratio": c.dec_ratio} for c in cells
            ],
            "render": render_rows or render_note,
            "pool": [asdict(r) for r in pool],
            "lines": lines,
            "nproc": os.cpu_count(),
            "time": datetime.now().astimezone().isoformat(timespec="seconds"),
        }
        args.json.write_text(json.dumps(doc, indent=2))
    unmet = any("NOT MET" in line for line in lines)
    return 1 if args.strict and unmet else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        sys.exit(130)
