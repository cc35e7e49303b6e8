"""Printed tables and target lines of the DICOMweb benchmark: pacs and Orthanc side by side.
Every ratio reads "how many times better pacs is": > 1 pacs ahead, < 1 Orthanc ahead."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dicomweb_timing import Timing

TARGET_READ_RATIO = 0.8  # WADO-RS MB/s over reading the same files
TARGET_QIDO_MS = 20.0  # study search p50 at 10k and 200k studies
TARGET_METADATA_MS = 50.0  # series metadata, warm p50
Log = Callable[[str], None]


def _verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def _pick(timings: Sequence[Timing], server: str, what: str, **match: object) -> Timing | None:
    for t in timings:
        if (t.server, t.what) == (server, what) and all(
            getattr(t, k) == v for k, v in match.items()
        ):
            return t
    return None


def _ratio(better: float | None, worse: float | None) -> str:
    """``better / worse`` as "1.23x", or "-" without both."""
    if not better or not worse:
        return "-"
    return f"{better / worse:.2f}x"


Column = tuple[str, int, Callable[[Timing], str]]  # title, width (< 0: left-aligned), text
WADO_COLUMNS: list[Column] = [
    ("cache", -5, lambda t: t.what.split()[-1]),
    ("best MB/s", 9, lambda t: f"{t.mbs(best=True):.0f}"),
    ("med MB/s", 9, lambda t: f"{t.mbs():.0f}"),
    ("best s", 7, lambda t: f"{min(t.times):.2f}"),
    ("med s", 7, lambda t: f"{t.p50() / 1000:.2f}"),
    ("MB", 7, lambda t: f"{t.nbytes / 1e6:.1f}"),
    ("srv cpu s", 9, lambda t: f"{t.server_cpu:.2f}"),
    ("cli cpu s", 9, lambda t: f"{t.client_cpu:.2f}"),
    ("n", 3, lambda t: str(len(t.times))),
]
METADATA_COLUMNS: list[Column] = [
    ("first ms", 9, lambda t: f"{(t.first or 0) * 1000:.1f}"),
    ("warm p50", 9, lambda t: f"{t.p50():.2f}"),
    ("warm p95", 9, lambda t: f"{t.p95():.2f}"),
    ("KB", 7, lambda t: f"{t.nbytes / 1e3:.0f}"),
    ("srv cpu ms", 10, lambda t: f"{t.server_cpu * 1000:.2f}"),
    ("n", 3, lambda t: str(len(t.times))),
]


def _table(title: str, columns: list[Column], timings: Sequence[Timing], log: Log) -> None:
    """A titled table: the server, then a column each (or why the measurement failed)."""

    def cells(texts: list[str]) -> str:
        return " ".join(
            f"{x:<{-w}}" if w < 0 else f"{x:>{w}}"
            for x, (_, w, _) in zip(texts, columns, strict=True)
        )

    log("")
    log(title)
    log(f"  {'server':<8} {cells([c[0] for c in columns])}")
    for t in timings:
        row = cells([text(t) for _, _, text in columns]) if t.ok else f"failed: {t.error}"
        log(f"  {t.server:<8} {row}")


def print_wado(timings: Sequence[Timing], context: str, log: Log) -> list[str]:
    title = f"WADO-RS series retrieval, as stored (transfer-syntax=*): {context}"
    _table(title, WADO_COLUMNS, timings, log)
    log("  read = pacs' stored files read to their end by this process, 1 MiB at a time")
    log("  warm = in the page cache; cold = the server's stored files evicted from it")
    log("  (fadvise DONTNEED) before each repetition: read from disk. Orthanc keeps its own")
    log("  in-memory cache of recently read files besides (128 MB by default)")
    log("  srv cpu = CPU of the server's process tree per retrieval; cli = this client's")
    lines = [_wado_lines(timings, state) for state in ("warm", "cold")]
    out = [line for pair in lines for line in pair]
    for line in out:
        log(line)
    return out


def _wado_lines(timings: Sequence[Timing], state: str) -> list[str]:
    mbs = {t.server: t.mbs() for t in timings if t.what == f"wado {state}" and t.ok}
    pacs, orthanc, read = mbs.get("pacs"), mbs.get("orthanc"), mbs.get("read")
    ratio = pacs / read if pacs and read else None
    shown = f"{ratio:.2f}" if ratio is not None else "-"
    return [
        f"WADO-RS  {state}: pacs/Orthanc median MB/s {_ratio(pacs, orthanc)}",
        f"target   WADO-RS {state}: pacs/read median MB/s {shown} >= {TARGET_READ_RATIO}: "
        f"{_verdict(ratio is not None and ratio >= TARGET_READ_RATIO)}",
    ]


def print_metadata(timings: Sequence[Timing], context: str, log: Log) -> list[str]:
    title = f"series metadata (application/dicom+json): {context}"
    _table(title, METADATA_COLUMNS, timings, log)
    log("  first = the first request after storing: nothing cached by pacs, the stored files")
    log("  evicted from the page cache (Orthanc may still hold some in its own file cache)")
    pacs, orthanc = (_pick(timings, s, "metadata") for s in ("pacs", "orthanc"))
    ok = [t for t in (pacs, orthanc) if t is not None and t.ok]
    lines = []
    if len(ok) == 2 and pacs is not None and orthanc is not None:
        lines.append(
            f"metadata Orthanc/pacs time: first {_ratio(orthanc.first, pacs.first)}, "
            f"warm p50 {_ratio(orthanc.p50(), pacs.p50())}"
        )
    warm = pacs.p50() if pacs is not None and pacs.ok else None
    lines.append(
        f"target   metadata warm p50 {warm or float('nan'):.2f} ms < {TARGET_METADATA_MS:.0f} ms: "
        f"{_verdict(warm is not None and warm < TARGET_METADATA_MS)}"
    )
    for line in lines:
        log(line)
    return lines


def _cell(t: Timing | None) -> str:
    if t is None:
        return f"{'':>8} {'':>8} {'':>7}"
    if not t.ok:
        return f"{'failed':>8} {'':>8} {'':>7}"
    matches = "-" if t.matches is None else str(t.matches)
    return f"{t.p50():>8.2f} {t.p95():>8.2f} {matches:>7}"


def print_qido(timings: Sequence[Timing], labels: dict[str, str], log: Log) -> list[str]:
    """One row per (data, size, query kind): pacs, Orthanc, Orthanc/pacs p50."""
    log("")
    log("QIDO-RS study search (GET /studies, Accept: application/dicom+json, no limit given)")
    for data, text in labels.items():
        log(f"  {data}: {text}")
    log(f"  {'data':<9} {'studies':>7} {'query':<9} {'pacs p50':>8} {'p95':>8} {'matches':>7}"
        f"  {'orth p50':>8} {'p95':>8} {'matches':>7}  {'Orthanc/pacs':>12}")  # fmt: skip
    rows = dict.fromkeys((t.data, t.size, t.what) for t in timings)
    for data, size, what in rows:
        pacs = _pick(timings, "pacs", what, data=data, size=size)
        orthanc = _pick(timings, "orthanc", what, data=data, size=size)
        speed = _ratio(
            orthanc.p50() if orthanc and orthanc.ok else None,
            pacs.p50() if pacs and pacs.ok else None,
        )
        log(f"  {data:<9} {size:>7} {what:<9} {_cell(pacs)}  {_cell(orthanc)}  {speed:>12}")
    log("  floor = pacs GET /healthz, Orthanc GET /system on the same connection")
    return _qido_targets(timings, log)


def _qido_targets(timings: Sequence[Timing], log: Log) -> list[str]:
    lines = []
    for t in timings:
        if t.server != "pacs" or t.data != "synthetic" or t.what == "floor":
            continue
        ok = t.ok and t.p50() < TARGET_QIDO_MS
        value = f"{t.p50():.2f} ms" if t.ok else "failed"
        lines.append(
            f"target   QIDO {t.what:<9} at {t.size:>7} studies p50 {value} < "
            f"{TARGET_QIDO_MS:.0f} ms: {_verdict(ok)}"
        )
    for line in lines:
        log(line)
    return lines
