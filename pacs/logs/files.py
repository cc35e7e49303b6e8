"""The log files of the log dir: listing, reading entries, deleting. Thread-only (file I/O).

A name reaches the filesystem only if it is a plain log file name (``pacs.jsonl``,
``pacs-worker2.jsonl.3``: letters, digits, ``.``, ``_``, ``-``; ending ``.jsonl`` or ``.jsonl.N``)
naming a regular file directly in the log dir; anything else is refused before any path is
built. Entries are read from the end of the file backwards, so a tail of a large file costs only
what it returns."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}\.jsonl(\.[0-9]{1,4})?$")
PLAIN = re.compile(r"[a-z0-9 _.,:;=/()@#%+-]+")
BLOCK = 64 * 1024


class BadName(ValueError):
    """Not a log file name."""


class Missing(LookupError):
    """No such log file."""


class Busy(Exception):
    """The file is being written."""


@attrs.frozen(kw_only=True)
class LogFile:
    name: str
    size: int
    modified: dt.datetime
    active: bool  # a process of this server writes to it


def check_name(name: str) -> str:
    if not NAME.match(name) or ".." in name:
        raise BadName(
            f"{name!r} is not a log file name (letters, digits, '.', '_', '-', "
            "ending .jsonl or .jsonl.N)"
        )
    return name


def listing(folder: Path, *, workers: int = 0) -> list[LogFile]:
    """The log files, newest first (``workers``: the server's DICOM worker processes)."""
    busy = busy_names(folder, workers)
    found = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    for entry in entries:
        if NAME.match(entry.name) and entry.is_file(follow_symlinks=False):
            info = entry.stat(follow_symlinks=False)
            modified = dt.datetime.fromtimestamp(info.st_mtime, dt.UTC)
            found.append(
                LogFile(
                    name=entry.name,
                    size=info.st_size,
                    modified=modified,
                    active=entry.name in busy,
                )
            )
    return sorted(found, key=lambda f: (f.modified, f.name), reverse=True)


def locate(folder: Path, name: str) -> Path:
    """The file ``name`` of ``folder``: BadName for a name that is not a log file's, Missing
    when there is no such regular file (symbolic links are not followed)."""
    path = folder / check_name(name)
    if not path.is_file() or path.is_symlink():
        raise Missing(f"no log file {name!r}")
    return path


def _lines_backwards(path: Path) -> Iterator[bytes]:
    """The lines of ``path``, last first (a last line still being written included)."""
    with path.open("rb") as handle:
        position = handle.seek(0, os.SEEK_END)
        rest = b""
        while position > 0:
            step = min(BLOCK, position)
            position -= step
            handle.seek(position)
            chunk = handle.read(step) + rest
            lines = chunk.split(b"\n")
            rest = lines[0]
            for line in reversed(lines[1:]):
                if line.strip():
                    yield line
        if rest.strip():
            yield rest


def parse(line: bytes) -> dict[str, Any]:
    """One entry; a line that is not a JSON object is kept as its text, without a level."""
    text = line.decode("utf-8", errors="replace").strip()
    try:
        entry = json.loads(text)
    except ValueError:
        entry = None
    return entry if isinstance(entry, dict) else {"msg": text}


def _rank(entry: dict[str, Any]) -> int:
    level = logging.getLevelName(str(entry.get("level", "")).upper())
    return level if isinstance(level, int) else 0


def _matches(entry: dict[str, Any], text: str) -> bool:
    fields = (entry.get("msg"), entry.get("logger"), entry.get("exc"))
    return any(text in str(value).casefold() for value in fields if value)


def entries(
    path: Path, *, tail: int, level: str | None = None, text: str | None = None
) -> list[dict[str, Any]]:
    """The last ``tail`` entries at ``level`` or above containing ``text`` (case-insensitive,
    in the message, logger or traceback), oldest first."""
    floor = logging.getLevelName(level) if level else 0
    needle = text.casefold() if text else None
    # JSON escapes quotes, backslashes and control characters: only other text is found as is
    plain = needle is not None and PLAIN.fullmatch(needle) is not None
    needle_bytes = needle.encode() if needle and plain else None
    found: list[dict[str, Any]] = []
    for line in _lines_backwards(path):
        if needle_bytes is not None and needle_bytes not in line.lower():
            continue  # cheap test on the raw line before decoding it
        entry = parse(line)
        if floor and _rank(entry) < floor:
            continue
        if needle is not None and not _matches(entry, needle):
            continue
        found.append(entry)
        if len(found) >= tail:
            break
    found.reverse()
    return found


def delete(folder: Path, name: str, *, workers: int) -> int:
    """Remove a log file; Busy if it is one a process of this server writes to (this process
    or one of its ``workers`` DICOM workers). Returns the bytes freed."""
    path = locate(folder, name)
    if name in busy_names(folder, workers):
        raise Busy(
            f"{name!r} is being written; rotated files ({name}.1, ...) can be deleted, "
            "this one shrinks when it rotates"
        )
    size = path.stat().st_size
    path.unlink()
    return size


def busy_names(folder: Path, workers: int) -> set[str]:
    """The files this server's processes write: the main process's open file handlers in
    ``folder`` and each DICOM worker's ``pacs-workerN.jsonl``."""
    names = {f"pacs-worker{n}.jsonl" for n in range(1, workers + 1)}
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            target = Path(handler.baseFilename)
            if target.parent.resolve() == folder.resolve():
                names.add(target.name)
    return names
