"""DICOMweb benchmark: WADO-RS series retrieval, QIDO-RS study search and series metadata, pacs
side by side with Orthanc's DICOMweb plugin (Debian orthanc + orthanc-dicomweb), in one run.

Series: a CT series of 500 instances (512x512x16 bit, ~0.5 MB each, 263 MB; dicomweb_data) is
stored by DCMTK storescu into a fresh pacs and a fresh Orthanc (stock settings, no compression).
Over one keep-alive httpx connection per server: series metadata, the first request (nothing
cached by the server, the stored files evicted from the page cache) and warm p50/p95 (target
warm p50 < 50 ms); WADO-RS retrieval as stored (``transfer-syntax=*``), streamed and counted,
best and median MB/s of 5, warm (page cache) and cold (the server's files evicted with fadvise
before each); and pacs' stored files read by this process the same two ways (target pacs/read
>= 0.8). Orthanc keeps recently read files in its own memory besides (128 MB by default).

Search: QIDO-RS study searches of the Q/R bench's query kinds (qr_queries: a patient-name
prefix, today's studies, MR of the last two days, a name initial + MR + 30 days), no limit
given. pacs runs on copies of the Q/R bench's synthetic indexes of 10k and 200k studies
(qr_index; rows only; target p50 < 20 ms). Orthanc cannot take 200k studies in reasonable time,
so both servers are also loaded by storescu with the same real files: a 5k-study synthetic
archive made real, one tiny instance per series (10,896 files), and searched alike. Orthanc
runs with ``QidoCaseSensitive: false``, as pacs matches names; wildcards are sent as ``*``
(Orthanc 1.10 takes ``%2A`` for a literal character).

Findings (2 cores, shared host, runs differ by up to ~20%; pacs 0.1.0, Orthanc 1.10.1 +
DICOMweb 1.7):
- QIDO: every target met with room: p50 2.5-5.5 ms at 10k and 3.2-5.9 ms at 200k studies; on
  the same 5k-study files pacs answers in 2.6-4.6 ms, Orthanc in 17.5-28.0 ms (4.6-7.5x).
- Metadata warm p50 3.1-3.3 ms (target met; Orthanc re-reads the files each time: 170 ms). A
  hit costs the study's change-log sequence and the finished body, kept per base URL. The first
  request takes 0.68 s against Orthanc's 0.49 s: 500 headers parsed (numbers and ASCII values
  straight from the raw bytes; large values judged from the raw elements and never read).
- WADO-RS as stored: pacs 1.58 GB/s warm (Orthanc 1.61: 0.98x) and 0.75 GB/s cold (Orthanc
  0.68: 1.10x). Runs of files are read whole, 8 MiB per thread call, the next batch while the
  current one is sent, and leave as one chunk. Against reading the files: cold 0.56-0.60
  (target 0.8, not met: server and client share two cores); warm 0.10 (a page-cache read runs
  at 16 GB/s, beyond any HTTP server here, Orthanc included).

    scripts/bench/dicomweb                  # full run (about 3 minutes; 5 the first time)
    scripts/bench/dicomweb --quick          # smoke run (about a minute)
    scripts/bench/dicomweb --skip-search --json out.json
"""

from __future__ import annotations

import argparse
import os
import platform
from datetime import datetime
from typing import Any

import benchcli
from dicomweb_data import Series, load_search_set, load_series
from dicomweb_report import print_metadata, print_qido, print_wado
from dicomweb_servers import Web, load, orthanc_web, pacs_web
from dicomweb_timing import Timing, metadata, qido, read_files, wado
from qr_index import load_or_build
from qr_move import MoveStudy
from qr_queries import kinds
from receivers import REPO, ReceiverError

DATA = REPO / "data" / "bench" / "dicomweb"
QR_DATA = REPO / "data" / "bench" / "qr"  # the Q/R bench's cached indexes, shared
RUNS = DATA / "runs"
SERVERS = {"pacs": pacs_web, "orthanc": orthanc_web}


def log(msg: str) -> None:
    print(msg, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--instances", type=int, help="instances of the series (500; 100 --quick)")
    p.add_argument("--repeat", type=int, help="WADO-RS retrievals per server (5; 2 --quick)")
    p.add_argument("--meta-repeat", type=int, help="warm metadata requests (20; 5 --quick)")
    p.add_argument("--sizes", help="synthetic index sizes for pacs (10000,200000)")
    p.add_argument("--search-studies", type=int, help="studies of the set both hold (5000)")
    p.add_argument("--queries", type=int, help="timed searches per kind (50; 10 --quick)")
    p.add_argument("--budget", type=float, help="seconds per kind before stopping early (min 5)")
    p.add_argument("--skip-series", action="store_true", help="no WADO-RS / metadata part")
    p.add_argument("--skip-search", action="store_true", help="no QIDO-RS part")
    benchcli.add_common(p, quick="smaller data, fewer repetitions")
    args = p.parse_args(argv)
    quick = args.quick
    args.instances = args.instances or (100 if quick else 500)
    args.repeat = args.repeat or (2 if quick else 5)
    args.meta_repeat = args.meta_repeat or (5 if quick else 20)
    args.sizes = [
        int(s) for s in (args.sizes or ("2000,40000" if quick else "10000,200000")).split(",")
    ]
    args.search_studies = args.search_studies or (500 if quick else 5000)
    args.queries = args.queries or (10 if quick else 50)
    args.budget = max(5.0, args.budget or (5.0 if quick else 20.0))
    return args


def _stored(web: Web, study: MoveStudy, what: str) -> float:
    seconds = load(web, study)
    log(f"  {web.label}: {what}: {study.count} instances stored in {seconds:.1f} s "
        f"({study.count / seconds:.0f}/s)  [{web.version}]")  # fmt: skip
    return seconds


def _series_on(web: Web, series: Series, args: argparse.Namespace) -> list[Timing]:
    """Metadata, then WADO-RS warm and cold (pacs: and the file reads) on one loaded server."""
    path = f"{web.root}/studies/{series.study.study_uid}/series/{series.series_uid}"
    stored = web.stored()
    out = [metadata(web, path + "/metadata", args.meta_repeat, stored)]
    for cold in (False, True):
        if web.label == "pacs":
            out.append(read_files(stored, args.repeat, cold=cold))
        out.append(wado(web, path, args.repeat, stored, cold=cold))
    for t in out:
        speed = (
            f"median {t.mbs():.0f} MB/s" if t.what.startswith("wado") else f"p50 {t.p50():.1f} ms"
        )
        log(f"  {t.server} {t.what}: {speed if t.ok else t.error}")
    return out


def series_part(args: argparse.Namespace, doc: dict[str, Any]) -> tuple[list[str], list[Timing]]:
    """WADO-RS and metadata of the series on each server: target lines, timings."""
    series = load_series(DATA, args.instances, log)
    study = series.study
    timings: list[Timing] = []
    loads: dict[str, Any] = {}
    for name, start in SERVERS.items():
        log(f"series: {name} ...")
        try:
            with start(RUNS, keep=args.keep) as web:
                loads[name] = {"store_s": _stored(web, study, "series"), "version": web.version}
                timings += _series_on(web, series, args)
        except (ReceiverError, RuntimeError) as exc:
            log(f"!! {name} failed: {exc}")
            error = str(exc).splitlines()[0]
            timings += [Timing(name, what, error=error) for what in ("metadata", "wado warm")]
    wados = [t for t in timings if t.what.startswith("wado")]
    metas = [t for t in timings if t.what == "metadata"]
    lines = print_wado(wados, f"{study.count} instances, {study.nbytes / 1e6:.0f} MB of files", log)
    lines += print_metadata(metas, f"series of {study.count} instances", log)
    doc["series"] = {
        "instances": study.count, "file_bytes": study.nbytes, "servers": loads,
        "wado": [t.summary() for t in wados], "metadata": [t.summary() for t in metas],
    }  # fmt: skip
    return lines, timings


def search_part(args: argparse.Namespace, doc: dict[str, Any]) -> tuple[list[str], list[Timing]]:
    """QIDO-RS on the synthetic indexes (pacs) and the search set (both): target lines,
    timings."""
    timings: list[Timing] = []
    for size in args.sizes:
        db = load_or_build(QR_DATA, size, log)
        log(f"QIDO: pacs on the synthetic index of {size} studies ...")
        try:
            with pacs_web(RUNS, db.path, keep=args.keep) as web:
                timings += qido(web, kinds(db.stats), args, log, size=size, data="synthetic")
        except (ReceiverError, RuntimeError) as exc:
            log(f"!! pacs on {size} studies failed: {exc}")
            timings.append(Timing("pacs", "floor", size, "synthetic", error=str(exc)))
    found = load_search_set(QR_DATA, DATA, args.search_studies, log)
    files = MoveStudy(found.root, "", found.instances, found.nbytes)
    for name, start in SERVERS.items():
        log(f"QIDO: {name} on {found.instances} files of {args.search_studies} studies ...")
        try:
            with start(RUNS, keep=args.keep) as web:
                _stored(web, files, "search set")
                timings += qido(
                    web, kinds(found.db.stats), args, log, size=args.search_studies, data="files"
                )
        except (ReceiverError, RuntimeError) as exc:
            log(f"!! {name} failed: {exc}")
            timings.append(Timing(name, "floor", args.search_studies, "files", error=str(exc)))
    s = found.db.stats
    labels = {
        "synthetic": "pacs on a qr_index SQLite index written directly (rows only, no files)",
        "files": f"both servers loaded by storescu with the same {found.instances} tiny files "
        f"({s['patients']} patients, {s['studies']} studies)",
    }
    lines = print_qido(timings, labels, log)
    doc["search"] = {"sets": labels, "qido": [t.summary() for t in timings]}
    return lines, timings


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    benchcli.prepare(DATA)
    started = datetime.now().astimezone().isoformat(timespec="seconds")
    doc: dict[str, Any] = {"time": started, "host": platform.node(), "nproc": os.cpu_count()}
    lines: list[str] = []
    timings: list[Timing] = []
    for skip, part in ((args.skip_series, series_part), (args.skip_search, search_part)):
        if not skip:
            part_lines, part_timings = part(args, doc)
            lines += part_lines
            timings += part_timings
    load_avg = "/".join(f"{x:.2f}" for x in os.getloadavg())
    log("")
    log(f"DICOMweb benchmark {started}  host {platform.node()}  nproc={os.cpu_count()}  "
        f"load {load_avg}")  # fmt: skip
    for line in lines:
        log(line)
    return benchcli.finish(args, doc, lines, failed=any(t.error for t in timings))


if __name__ == "__main__":
    benchcli.entry(main)
