"""Deleting stored files without losing the index's word for them. Thread-only.

A delete moves the files into ``.trash/`` (same relative paths), then the index commits the
removal, then the trash is emptied. A crash in between leaves files in the trash: at the next
start those the index still lists go back (the delete never committed), the rest are removed
(it did). The startup sweep never looks in the trash, so a deleted study cannot come back."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from pacs.storage.area import TRASH, StorageArea

log = logging.getLogger("pacs.storage")


def _move(area: StorageArea, rels: Iterable[str], *, into_trash: bool) -> int:
    trash = area.root / TRASH
    moved, folders = 0, set[Path]()
    for rel in rels:
        src, dst = (area.root / rel, trash / rel) if into_trash else (trash / rel, area.root / rel)
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(src, dst)
        except FileNotFoundError:
            continue
        moved += 1
        folders.update((src.parent, dst.parent))
    for folder in folders:  # the renames survive a power cut before the index commits
        with contextlib.suppress(OSError):
            area.fsync_dir(folder)
    return moved


def to_trash(area: StorageArea, rels: Sequence[str]) -> int:
    return _move(area, rels, into_trash=True)


def restore(area: StorageArea, rels: Sequence[str]) -> int:
    return _move(area, rels, into_trash=False)


def purge(area: StorageArea, rels: Sequence[str]) -> int:
    """Remove the files of a committed delete: from the trash, or in place for an instance
    that arrived while the delete was under way."""
    removed = 0
    for rel in rels:
        for path in (area.root / TRASH / rel, area.root / rel):
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.warning("could not remove deleted file %s: %s", rel, exc)
            removed += 1
            break
    return removed


def recover(area: StorageArea, known: Callable[[list[str]], set[str]]) -> tuple[int, int]:
    """At start: put back the trashed files the index still lists (``known``: which of these
    relative paths it lists), remove the others. Returns (restored, removed)."""
    trash = area.root / TRASH
    if not trash.is_dir():
        return 0, 0
    rels = [path.relative_to(trash).as_posix() for path in trash.rglob("*") if path.is_file()]
    listed = known(rels) if rels else set()
    restored = restore(area, sorted(listed))
    removed = purge(area, [rel for rel in rels if rel not in listed])
    return restored, removed
