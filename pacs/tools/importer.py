"""``pacs import``: files, folders (recursively) and zip archives, through the same store path as
the DICOM listener (writer actor → indexer actor), with a progress bar and a final summary."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import trio
from tqdm import tqdm

from pacs.app import start_core
from pacs.errors import PacsError
from pacs.messages import Source, StoreRequest, StoreResult
from pacs.runtime import rpc
from pacs.runtime.limits import Limits
from pacs.settings import Settings
from pacs.storage.area import StorageArea
from pacs.storage.writer import StoreOutbox

NOT_PART10 = "no DICM preamble"


@attrs.frozen
class Item:
    """One thing to import: a file, or a member of a zip archive."""

    path: Path
    member: str | None = None

    def label(self) -> str:
        return f"{self.path}!{self.member}" if self.member else str(self.path)


@attrs.define
class Report:
    outcomes: Counter[str] = attrs.field(factory=Counter)
    failures: list[tuple[str, str]] = attrs.field(factory=list)
    skipped: list[tuple[str, str]] = attrs.field(factory=list)

    def print(self) -> None:
        o = self.outcomes
        print(
            f"imported: {o['stored'] + o['replaced']} stored, {o['duplicate']} duplicates, "
            f"{len(self.failures)} failed, {len(self.skipped)} skipped (not DICOM)"
        )
        reasons = Counter(reason for _, reason in self.failures)
        for reason, count in reasons.most_common():
            print(f"  failed x{count}: {reason}")
            for label in [lbl for lbl, r in self.failures if r == reason][:5]:
                print(f"    {label}")
        for label, why in self.skipped[:10]:
            print(f"  skipped {label}: {why}")


def _expand(path: Path) -> Iterator[Item]:
    if path.is_dir():
        for folder, _dirs, files in os.walk(path):
            for name in sorted(files):
                yield from _expand(Path(folder) / name)
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.is_dir():
                    yield Item(path, info.filename)
    else:
        yield Item(path)


def collect(paths: list[Path]) -> list[Item]:
    """Thread-only: every importable item under ``paths``; a missing path raises
    FileNotFoundError."""
    items: list[Item] = []
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file or folder")
        items.extend(_expand(path))
    return items


def _is_part10(head: bytes) -> bool:
    return len(head) >= 132 and head[128:132] == b"DICM"


def stage(item: Item, area: StorageArea) -> tuple[Path, bool] | str:
    """Thread-only: make ``item`` a file the writer can take. Returns (path, consume), or why
    it is not a DICOM Part 10 instance. Zip members are extracted into the spool."""
    if Path(item.member or item.path.name).name.upper() == "DICOMDIR":
        return "a DICOMDIR lists instances, it is not one"
    if item.member is None:
        with open(item.path, "rb") as fp:
            return (item.path, False) if _is_part10(fp.read(132)) else NOT_PART10
    with zipfile.ZipFile(item.path) as archive, archive.open(item.member) as src:
        if not _is_part10(src.read(132)):
            return NOT_PART10
    fd, name = tempfile.mkstemp(dir=area.spool, suffix=".dcm")
    with (
        os.fdopen(fd, "wb") as out,
        zipfile.ZipFile(item.path) as archive,
        archive.open(item.member) as src,
    ):
        shutil.copyfileobj(src, out, 1 << 20)
    return Path(name), True


@attrs.frozen(kw_only=True)
class Importer:
    area: StorageArea
    store: StoreOutbox
    limits: Limits
    report: Report
    bar: Any

    async def import_one(self, item: Item) -> None:
        staged = await trio.to_thread.run_sync(stage, item, self.area, limiter=self.limits.disk)
        if isinstance(staged, str):
            self.report.skipped.append((item.label(), staged))
            return
        path, consume = staged
        request = StoreRequest(path=path, source=Source.IMPORT, consume=consume)
        try:
            result: StoreResult = await rpc.call(self.store, request, timeout=300, what="storage")
        except PacsError as exc:
            self.report.failures.append((item.label(), exc.message))
            return
        self.report.outcomes[str(result.outcome)] += 1

    async def worker(self, items: trio.MemoryReceiveChannel[Item]) -> None:
        async with items:
            async for item in items:
                await self.import_one(item)
                self.bar.update(1)


async def run_import(settings: Settings, paths: list[Path], jobs: int) -> int:
    report = Report()
    limits = Limits.create()
    try:
        items = await trio.to_thread.run_sync(collect, paths)
    except FileNotFoundError as exc:
        print(f"pacs import: {exc}", file=sys.stderr)
        return 2
    async with trio.open_nursery() as nursery:
        core = await start_core(nursery, settings, limits)
        await core.index.aclose()
        send, recv = trio.open_memory_channel[Item](jobs)
        with tqdm(total=len(items), unit="file", desc="import", file=sys.stderr) as bar:
            importer = Importer(
                area=core.area, store=core.store, limits=limits, report=report, bar=bar
            )
            async with core.store, recv, trio.open_nursery() as workers:
                for _ in range(max(1, jobs)):
                    workers.start_soon(importer.worker, recv.clone())
                async with send:
                    for item in items:
                        await send.send(item)
    report.print()
    return 1 if report.failures else 0
