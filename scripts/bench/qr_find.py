"""C-FIND latency: one pynetdicom association (TCP_NODELAY) to ``pacs serve`` on a cached index;
each query is timed from send to the final response, every pending response consumed."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from procinfo import cpu_seconds
from pydicom.dataset import Dataset
from pynetdicom import AE, _config
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    StudyRootQueryRetrieveInformationModelFind as STUDY_FIND,
)
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]
from qr_index import IndexDb
from qr_queries import QueryKind, kinds
from qr_servers import running

from pacs.dicom import commands, wakeup
from pacs.dicom.ae import CONNECTION_EVENTS

# this SCU does not pretty-print every identifier for its log: its CPU is not what is measured
_config.LOG_RESPONSE_IDENTIFIERS = _config.LOG_REQUEST_IDENTIFIERS = False
PENDING = (0xFF00, 0xFF01)
CUT = 0xA700  # more matches than [dicom] max_find_results
WARMUP = 3
Log = Callable[[str], None]


@dataclass
class FindResult:
    size: int
    mode: str  # "workers=0" or "workers=<default>"
    kind: str
    label: str
    times: list[float] = field(default_factory=list)  # seconds, send → final response
    firsts: list[float] = field(default_factory=list)  # seconds, send → first match
    matches: int = 0
    status: int | None = None
    error: str = ""
    note: str = ""
    server_cpu: float = 0.0  # CPU seconds of the pacs process tree per query
    client_cpu: float = 0.0  # CPU seconds of this SCU process per query

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.times)

    def p50(self) -> float:
        return statistics.median(self.times) * 1000

    def p95(self) -> float:
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000

    def first_p50(self) -> float | None:
        return statistics.median(self.firsts) * 1000 if self.firsts else None


def associate(port: int) -> Any:
    # the SCU gets the same pynetdicom tuning pacs runs with (event waits, direct command
    # sets): stock, its polling reactor and per-response decoding were as slow as the server
    wakeup.install()
    commands.install()
    ae = AE(ae_title="BENCHSCU")
    ae.add_requested_context(STUDY_FIND)
    ae.add_requested_context(Verification)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 300
    assoc = ae.associate(  # TCP_NODELAY from the start, as pacs does: no Nagle stalls
        "127.0.0.1", port, ae_title="PACS", evt_handlers=CONNECTION_EVENTS
    )
    if not assoc.is_established:
        raise RuntimeError("association rejected or aborted")
    return assoc


def _echo(assoc: Any, size: int, mode: str, pid: int, count: int = 50) -> FindResult:
    """The floor: C-ECHO round trips on the same association."""
    result = FindResult(size, mode, "echo", "C-ECHO round trip (floor)")
    for _ in range(WARMUP):
        assoc.send_c_echo()
    server0, client0 = cpu_seconds(pid), time.process_time()
    for _ in range(count):
        start = time.perf_counter()
        status = assoc.send_c_echo()
        result.times.append(time.perf_counter() - start)
        if not status or status.Status != 0:
            result.error = "C-ECHO failed"
            break
    result.server_cpu = (cpu_seconds(pid) - server0) / len(result.times)
    result.client_cpu = (time.process_time() - client0) / len(result.times)
    return result


def timed_query(assoc: Any, identifier: Dataset) -> tuple[float, float | None, int, int]:
    """(seconds to the final response, seconds to the first match, matches, final status)."""
    start = time.perf_counter()
    first: float | None = None
    matches, final = 0, -1
    for status, _ds in assoc.send_c_find(identifier, STUDY_FIND):
        if not status:
            raise RuntimeError("no response (association lost or DIMSE timeout)")
        if status.Status in PENDING:
            matches += 1
            first = first if first is not None else time.perf_counter() - start
        else:
            final = int(status.Status)
    return time.perf_counter() - start, first, matches, final


def _measure(assoc: Any, kind: QueryKind, result: FindResult, args: Any, pid: int) -> None:
    identifier = kind.identifier()
    for _ in range(WARMUP):
        if timed_query(assoc, identifier)[0] > 1.0:
            break  # a slow query warms up in one go
    deadline = time.monotonic() + args.budget
    server0, client0 = cpu_seconds(pid), time.process_time()
    for i in range(args.queries):
        wall, first, matches, final = timed_query(assoc, identifier)
        result.times.append(wall)
        if first is not None:
            result.firsts.append(first)
        result.matches, result.status = matches, final
        if i >= 4 and time.monotonic() > deadline:
            break
    result.server_cpu = (cpu_seconds(pid) - server0) / len(result.times)
    result.client_cpu = (time.process_time() - client0) / len(result.times)
    if result.status == CUT:
        result.note = f"cut by the SCP at {result.matches} matches (0xA700)"
    elif result.status not in (0x0000, None):
        result.error = f"final status 0x{result.status:04X} after {result.matches} matches"


def run_size(
    db: IndexDb, mode: str, workers: int | None, *, runs: Path, args: Any, log: Log
) -> list[FindResult]:
    """Every query kind against one database, on one association to a fresh ``pacs serve``."""
    results: list[FindResult] = []
    with running("pacs", runs, db_url=db.url, workers=workers, keep=args.keep) as server:
        assoc = associate(server.port)
        try:
            results.append(_echo(assoc, db.size, mode, server.proc.pid))
            for kind in kinds(db.stats):
                result = FindResult(db.size, mode, kind.name, kind.label)
                try:
                    _measure(assoc, kind, result, args, server.proc.pid)
                except RuntimeError as exc:
                    result.error = str(exc)
                results.append(result)
                log(
                    f"  {db.size:>7} {mode:<10} {kind.name:<9} p50 {result.p50():8.2f} ms  "
                    f"matches {result.matches:>5}  n={len(result.times)} {result.error}"
                    if result.times
                    else f"  {db.size:>7} {mode:<10} {kind.name:<9} failed: {result.error}"
                )
                if not assoc.is_established:
                    assoc = associate(server.port)
        finally:
            if assoc.is_established:
                assoc.release()
    return results
