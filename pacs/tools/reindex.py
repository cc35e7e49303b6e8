"""``pacs reindex``: empty the index and rebuild it from every file in the storage area."""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

import trio
from sqlalchemy import Engine, delete
from tqdm import tqdm

from pacs.app import start_core
from pacs.errors import PacsError
from pacs.index.statements import CHANGE, INSTANCE, PATIENT, REPAIR, SERIES, STUDY
from pacs.runtime.limits import Limits
from pacs.settings import Settings
from pacs.storage.sweeper import FileIndexer


def clear_index(engine: Engine) -> None:
    """Thread-only: delete every row, children first, in one transaction."""
    with engine.begin() as conn:
        for table in (REPAIR, INSTANCE, SERIES, STUDY, PATIENT, CHANGE):
            conn.execute(delete(table))


async def _worker(
    paths: trio.MemoryReceiveChannel[str],
    files: FileIndexer,
    tally: Counter[str],
    failures: list[str],
    bar: Any,
) -> None:
    async with paths, files.index:
        async for rel in paths:
            try:
                result = await files.index_file(rel)
                tally[str(result.outcome)] += 1
            except PacsError as exc:
                failures.append(f"{rel}: {exc.message}")
            bar.update(1)


async def run_reindex(settings: Settings, jobs: int = 8) -> int:
    tally: Counter[str] = Counter()
    failures: list[str] = []
    async with trio.open_nursery() as nursery:
        core = await start_core(nursery, settings, Limits.create())
        await core.store.aclose()
        await trio.to_thread.run_sync(clear_index, core.engine)
        files = await trio.to_thread.run_sync(lambda: list(core.area.walk()))
        send, recv = trio.open_memory_channel[str](jobs)
        with tqdm(total=len(files), unit="file", desc="reindex", file=sys.stderr) as bar:
            async with trio.open_nursery() as workers:
                for _ in range(jobs):
                    workers.start_soon(
                        _worker, recv.clone(), core.file_indexer(settings), tally, failures, bar
                    )
                await core.index.aclose()
                await recv.aclose()
                async with send:
                    for rel in files:
                        await send.send(rel)
    print(
        f"reindexed {len(files)} files: {tally['stored']} indexed, "
        f"{tally['duplicate']} duplicates, {len(failures)} unreadable"
    )
    for line in failures[:20]:
        print(f"  {line}")
    return 1 if failures else 0
