"""The storage area on disk. Thread-only: every method blocks on the filesystem.

Placement is durable before it returns: the file's data is fsynced, it is renamed (or linked)
into the tree, and the directory entry is fsynced. The spool lives inside the area so that every
move is a rename on one filesystem."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pacs.errors import StorageFailure

log = logging.getLogger("pacs.storage")

SPOOL = ".spool"
TRASH = ".trash"  # files of a delete in progress (`pacs.storage.trash`)


class StorageArea:
    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = root
        self.spool = root / SPOOL
        self.fsync = fsync
        self._known_dirs: set[Path] = set()

    def prepare(self) -> None:
        """Create the area and its spool."""
        self.spool.mkdir(parents=True, exist_ok=True)

    def absolute(self, rel: str) -> Path:
        return self.root / rel

    def _fsync_path(self, path: Path, flags: int = os.O_RDONLY) -> None:
        if not self.fsync:
            return
        fd = os.open(path, flags)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def fsync_dir(self, folder: Path) -> None:
        """Make the entries of ``folder`` durable (when the area fsyncs at all)."""
        self._fsync_path(folder)

    def _ensure_dir(self, folder: Path) -> None:
        if folder in self._known_dirs:
            return
        missing: list[Path] = []
        probe = folder
        while not probe.is_dir():
            missing.append(probe)
            probe = probe.parent
        for path in reversed(missing):
            try:
                path.mkdir()
            except FileExistsError:
                continue
            self._fsync_path(path.parent)
        self._known_dirs.add(folder)

    def place(self, src: Path, rel: str, *, overwrite: bool, consume: bool = True) -> int:
        """Put ``src`` at ``rel`` durably; return its size.

        Without ``overwrite`` a file already there is left as it is and ``src`` is dropped (the
        index then says whether it was a duplicate). ``consume`` False places a copy."""
        dest = self.root / rel
        try:
            if not consume:
                src = self.copy_to_spool(src)
            self._ensure_dir(dest.parent)
            self._fsync_path(src)
            size = src.stat().st_size
            if overwrite:
                os.replace(src, dest)
            else:
                with contextlib.suppress(FileExistsError):
                    os.link(src, dest)
                src.unlink()
            self._fsync_path(dest.parent)
        except OSError as exc:
            raise StorageFailure(f"cannot store {rel}: {exc.strerror or exc}") from exc
        return size

    def copy_to_spool(self, src: Path) -> Path:
        fd, name = tempfile.mkstemp(dir=self.spool, suffix=".dcm")
        with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
            shutil.copyfileobj(inp, out, 1 << 20)
        return Path(name)

    def remove(self, rel: str) -> None:
        try:
            (self.root / rel).unlink()
        except FileNotFoundError:
            return
        except OSError as exc:
            log.warning("could not remove superseded file %s: %s", rel, exc)

    def discard(self, path: Path) -> None:
        path.unlink(missing_ok=True)

    def sweep_spool(self) -> int:
        """Remove what a crash left in the spool: never acknowledged, the sender will resend."""
        count = 0
        for entry in os.scandir(self.spool):
            if entry.is_file():
                os.unlink(entry.path)
                count += 1
        return count

    def walk(self) -> Iterator[str]:
        """Every stored file as a '/'-separated path relative to the root (spool and trash
        excluded)."""
        stack = [self.root]
        while stack:
            folder = stack.pop()
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        if entry.name not in (SPOOL, TRASH):
                            stack.append(Path(entry.path))
                    elif entry.is_file(follow_symlinks=False):
                        yield Path(entry.path).relative_to(self.root).as_posix()
