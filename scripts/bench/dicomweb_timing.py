"""The timed requests of the DICOMweb benchmark, over one keep-alive httpx connection per server:
WADO-RS series retrieval streamed and counted (nothing parsed), series metadata (first request,
then warm), QIDO-RS study searches; and the same files read from disk in this process."""

from __future__ import annotations

import functools
import json
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from dicomweb_servers import Web
from procinfo import cpu_seconds
from qr_find import FindResult
from qr_queries import QueryKind

ACCEPT_DICOM = 'multipart/related; type="application/dicom"; transfer-syntax=*'  # as stored
ACCEPT_JSON = "application/dicom+json"
CHUNK = 1 << 20
WARMUP = 3
Log = Callable[[str], None]


@dataclass
class Timing:
    """Repetitions of one request (or file read) against one server."""

    server: str  # "pacs", "orthanc" or "read"
    what: str  # "wado warm", "wado cold", "metadata", a query kind, "floor"
    size: int = 0  # studies in the server (QIDO)
    data: str = ""  # QIDO: "synthetic" (a qr_index, pacs only) or "files" (both servers)
    times: list[float] = field(default_factory=list)  # seconds
    first: float | None = None  # seconds of the first request (metadata: nothing cached)
    nbytes: int = 0  # body bytes of one answer
    matches: int | None = None  # QIDO: studies answered
    server_cpu: float = 0.0  # CPU seconds of the server's process tree per repetition
    client_cpu: float = 0.0  # CPU seconds of this process per repetition
    error: str = ""

    # no error and some times; p50 and p95 in ms: as the Q/R bench reads its timings
    ok = FindResult.ok
    p50 = FindResult.p50
    p95 = FindResult.p95

    def mbs(self, best: bool = False) -> float:
        """MB/s (10^6 bytes) of the best or the median repetition."""
        seconds = min(self.times) if best else statistics.median(self.times)
        return self.nbytes / seconds / 1e6

    def brief(self) -> str:
        if not self.ok:
            return f"failed: {self.error}"
        if self.what.startswith("wado"):
            return f"median {self.mbs():.0f} MB/s, best {self.mbs(best=True):.0f} MB/s"
        matches = "" if self.matches is None else f", {self.matches} matches"
        return f"p50 {self.p50():.2f} ms, n={len(self.times)}{matches}"

    def summary(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "times"}
        out["n"] = len(self.times)
        if self.times:
            out.update(p50_ms=self.p50(), p95_ms=self.p95(), best_ms=min(self.times) * 1000)
            if self.what.startswith("wado"):
                out.update(best_mbs=self.mbs(best=True), median_mbs=self.mbs())
        return out


class _Cpu:
    """CPU seconds of this process and of a server's process tree over timed blocks."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.client = self.server = 0.0
        self.count = 0
        self.start()

    def start(self) -> None:
        self._client0 = time.process_time()
        self._server0 = cpu_seconds(self.pid) if self.pid else 0.0

    def stop(self, count: int = 1) -> None:
        self.client += time.process_time() - self._client0
        self.server += cpu_seconds(self.pid) - self._server0 if self.pid else 0.0
        self.count += count

    def charge(self, timing: Timing) -> None:
        timing.client_cpu = self.client / max(1, self.count)
        timing.server_cpu = self.server / max(1, self.count)


def evict(paths: Sequence[Path]) -> None:
    """Drop the files' pages from the page cache (written back first, so they can go): the next
    read comes from the disk. Only these files' pages: nothing else on the host is touched."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def _read(paths: Sequence[Path]) -> int:
    buffer, total = bytearray(CHUNK), 0
    for path in paths:
        with path.open("rb", buffering=0) as handle:
            while n := handle.readinto(buffer):
                total += n
    return total


def _repeat(
    timing: Timing,
    once: Callable[[], int],
    n: int,
    *,
    cold: Sequence[Path] | None = None,
    pid: int | None = None,
    budget: float = float("inf"),
) -> None:
    """Time ``once`` (it returns the bytes it moved) ``n`` times, or at least 5 times when that
    takes more than ``budget`` seconds; ``cold``: evict these files before each. ``pid``: the
    server whose CPU is counted."""
    cpu, deadline = _Cpu(pid), time.monotonic() + budget
    for i in range(n):
        if cold is not None:
            evict(cold)
        cpu.start()
        start = time.perf_counter()
        timing.nbytes = once()
        timing.times.append(time.perf_counter() - start)
        cpu.stop()
        if i >= 4 and time.monotonic() > deadline:
            break
    cpu.charge(timing)


def read_files(paths: Sequence[Path], repeat: int, *, cold: bool) -> Timing:
    """Read every file to its end, 1 MiB at a time into one buffer: the disk side of WADO-RS.
    Warm: from the page cache; cold: each file evicted first."""
    timing = Timing("read", f"wado {'cold' if cold else 'warm'}")
    if not cold:
        _read(paths)
    _repeat(timing, lambda: _read(paths), repeat, cold=paths if cold else None)
    return timing


def _stream(client: httpx.Client, url: str) -> int:
    with client.stream("GET", url, headers={"Accept": ACCEPT_DICOM}) as resp:
        if resp.status_code != 200:
            raise RuntimeError(f"GET {url}: HTTP {resp.status_code}")
        return sum(len(chunk) for chunk in resp.iter_raw(CHUNK))


def wado(web: Web, url: str, repeat: int, stored: Sequence[Path], *, cold: bool) -> Timing:
    """GET the series ``repeat`` times, counting the streamed bytes. Warm: after one untimed
    retrieval; cold: the server's ``stored`` files evicted before each."""
    timing = Timing(web.label, f"wado {'cold' if cold else 'warm'}")
    with web.client() as client:
        try:
            if not cold:
                _stream(client, url)
            once = functools.partial(_stream, client, url)
            _repeat(timing, once, repeat, cold=stored if cold else None, pid=web.pid)
        except (httpx.HTTPError, RuntimeError) as exc:
            timing.error = str(exc)[:200]
    return timing


def _get_json(client: httpx.Client, url: str) -> bytes:
    resp = client.get(url, headers={"Accept": ACCEPT_JSON})
    if resp.status_code != 200:
        raise RuntimeError(f"GET {resp.url}: HTTP {resp.status_code} {resp.text[:120]}")
    return resp.content


def metadata(web: Web, url: str, repeat: int, stored: Sequence[Path]) -> Timing:
    """The first request (the server's ``stored`` files evicted, nothing cached), then
    ``repeat`` warm ones."""
    timing = Timing(web.label, "metadata")
    with web.client() as client:
        try:
            evict(stored)
            start = time.perf_counter()
            _get_json(client, url)
            timing.first = time.perf_counter() - start
            _repeat(timing, lambda: len(_get_json(client, url)), repeat, pid=web.pid)
        except (httpx.HTTPError, RuntimeError) as exc:
            timing.error = str(exc)[:200]
    return timing


def _floor(web: Web, client: httpx.Client, timing: Timing, queries: int) -> Timing:
    """The HTTP round trip without a search: pacs /healthz, Orthanc /system."""
    url = web.root.rsplit("/", 1)[0] + ("/healthz" if web.label == "pacs" else "/system")

    def once() -> int:
        resp = client.get(url)
        resp.raise_for_status()
        return len(resp.content)

    for _ in range(WARMUP):
        once()
    _repeat(timing, once, queries, pid=web.pid)
    return timing


def _search(client: httpx.Client, web: Web, kind: QueryKind, timing: Timing, args: Any) -> None:
    # "*" and "^" stay as typed, as a browser's URLSearchParams leaves them: Orthanc 1.10 takes
    # "%2A" for a literal character, not a wildcard
    url = f"{web.root}/studies?{urlencode(kind.keys, safe='*^')}"
    body = b""

    def once() -> int:
        nonlocal body
        body = _get_json(client, url)
        return len(body)

    for _ in range(WARMUP):
        once()
    _repeat(timing, once, args.queries, pid=web.pid, budget=args.budget)
    timing.matches = len(json.loads(body))


def qido(
    web: Web, kinds: Sequence[QueryKind], args: Any, log: Log, *, size: int, data: str
) -> list[Timing]:
    """Every query kind as a QIDO-RS study search (no limit given: the server's default)."""
    out: list[Timing] = []
    with web.client() as client:
        out.append(_floor(web, client, Timing(web.label, "floor", size, data), args.queries))
        for kind in kinds:
            timing = Timing(web.label, kind.name, size, data)
            try:
                _search(client, web, kind, timing, args)
            except (httpx.HTTPError, RuntimeError) as exc:
                timing.error = str(exc)[:200]
            out.append(timing)
            log(f"  QIDO {web.label:<7} {size:>7} {kind.name:<9} {timing.brief()}")
    return out
