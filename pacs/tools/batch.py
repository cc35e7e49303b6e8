"""Run one file operation over a file or a folder tree, for the imaging commands.

A folder input mirrors its relative paths under the output folder, shows a progress bar, skips
what is not DICOM (and DICOMDIRs, which only index other files) with a note, and keeps going
after a failure. Every failure is reported on one line; a summary goes to stdout. Exit status:
0 all done, 1 some file failed, 2 nothing could be done (bad input, nothing to do)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
from tqdm import tqdm

from pacs.errors import InvalidDataset, PacsError

Operation = Callable[[Path, Path], None]
# Suffixes an output suffix replaces; any other name (often a bare UID, whose last part is not an
# extension) gets the output suffix appended, so instances never overwrite each other's output.
DICOM_SUFFIXES = frozenset({".dcm", ".dicom", ".dic"})


def is_dicom(path: Path) -> bool:
    """A Part 10 file: 128-byte preamble then "DICM"."""
    try:
        with path.open("rb") as fp:
            head = fp.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:] == b"DICM"


def output_name(path: Path, suffix: str | None) -> Path:
    if not suffix:
        return path
    if path.suffix.lower() in DICOM_SUFFIXES:
        return path.with_suffix(suffix)
    return path.with_name(path.name + suffix)


@attrs.define
class _Tally:
    written: int = 0
    skipped: int = 0
    failed: int = 0

    def skip(self, path: Path, why: str) -> None:
        self.skipped += 1
        tqdm.write(f"skipped {path}: {why}", file=sys.stderr)


def _pairs(src: Path, dest: Path, suffix: str | None) -> Iterator[tuple[Path, Path]]:
    for path in sorted(p for p in src.rglob("*") if p.is_file()):
        yield path, output_name(dest / path.relative_to(src), suffix)


def run(src: Path, dest: Path, operation: Operation, *, suffix: str | None = None) -> int:
    """Apply ``operation(input, output)`` to ``src`` (a file) or every file under it (a folder);
    ``suffix`` is the output files' suffix in folder mode."""
    if not src.exists():
        print(f"{src}: no such file or folder", file=sys.stderr)
        return 2
    if dest.resolve() == src.resolve():
        print("OUT must differ from IN: originals are never overwritten", file=sys.stderr)
        return 2
    if src.is_file():
        target = output_name(dest / src.name, suffix) if dest.is_dir() else dest
        status = _one(src, target, operation, strict=True)
        if status == 0:
            print(f"1 written, 0 skipped, 0 failed -> {target}")
        return status
    tally = _Tally()
    pairs = list(_pairs(src, dest, suffix))
    for path, out in tqdm(pairs, desc=src.name, unit="file", file=sys.stderr, leave=False):
        if not is_dicom(path):
            tally.skip(path, "not a DICOM file")
        elif path.name.upper() == "DICOMDIR":
            tally.skip(path, "a DICOMDIR only indexes the other files")
        elif _one(path, out, operation, strict=False):
            tally.failed += 1
        else:
            tally.written += 1
    print(f"{tally.written} written, {tally.skipped} skipped, {tally.failed} failed -> {dest}")
    if tally.failed:
        return 1
    return 0 if tally.written else 2


def _one(path: Path, out: Path, operation: Operation, *, strict: bool) -> int:
    if strict and not is_dicom(path):
        print(f"{path}: not a DICOM file", file=sys.stderr)
        return 2
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        operation(path, out)
    except PacsError as exc:
        tqdm.write(f"{path}: {' '.join(exc.message.split())}", file=sys.stderr)
        return 2 if isinstance(exc, InvalidDataset) and strict else 1
    except OSError as exc:
        tqdm.write(f"{path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0
