"""Run one file operation over a file or a folder tree, for the imaging commands.

A folder input mirrors its relative paths under the output folder, shows a progress bar, skips
what is not DICOM with a note, and keeps going after a failure: every failure is reported, and
the exit status says whether any happened (0 all done, 1 some failed, 2 nothing to do)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from tqdm import tqdm

from pacs.errors import InvalidDataset, PacsError

Operation = Callable[[Path, Path], None]


def is_dicom(path: Path) -> bool:
    """A Part 10 file: 128-byte preamble then "DICM"."""
    try:
        with path.open("rb") as fp:
            head = fp.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:] == b"DICM"


def _pairs(src: Path, dest: Path, suffix: str | None) -> Iterator[tuple[Path, Path]]:
    for path in sorted(p for p in src.rglob("*") if p.is_file()):
        out = dest / path.relative_to(src)
        yield path, out.with_suffix(suffix) if suffix else out


def run(src: Path, dest: Path, operation: Operation, *, suffix: str | None = None) -> int:
    """Apply ``operation(input, output)`` to ``src`` (a file) or every file under it (a folder);
    ``suffix`` replaces the output files' suffix in folder mode."""
    if not src.exists():
        print(f"{src}: no such file or folder", file=sys.stderr)
        return 2
    if src.is_file():
        return _one(src, dest, operation, strict=True)
    pairs = list(_pairs(src, dest, suffix))
    failed = done = 0
    for path, out in tqdm(pairs, desc=src.name, unit="file", file=sys.stderr, leave=False):
        if not is_dicom(path):
            tqdm.write(f"skipped {path}: not a DICOM file", file=sys.stderr)
            continue
        status = _one(path, out, operation, strict=False)
        failed += status != 0
        done += status == 0
    print(f"{done} file(s) written to {dest}, {failed} failed", file=sys.stderr)
    if failed:
        return 1
    return 0 if done else 2


def _one(path: Path, out: Path, operation: Operation, *, strict: bool) -> int:
    if strict and not is_dicom(path):
        print(f"{path}: not a DICOM file", file=sys.stderr)
        return 2
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        operation(path, out)
    except PacsError as exc:
        status = 2 if isinstance(exc, InvalidDataset) and strict else 1
        tqdm.write(f"{path}: {exc.message}", file=sys.stderr)
        return status
    except OSError as exc:
        tqdm.write(f"{path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0
