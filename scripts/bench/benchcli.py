"""What a benchmark's command line shares: the common flags, the start (SIGTERM goes through
``finally``, so servers are stopped; generated data kept out of git), the end (the JSON document,
the exit code) and the entry point."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn


def add_common(p: argparse.ArgumentParser, quick: str) -> None:
    """--quick (``quick`` says what it changes), --keep, --json, --strict."""
    p.add_argument("--quick", action="store_true", help=quick)
    p.add_argument("--keep", action="store_true", help="keep server folders (debugging)")
    p.add_argument("--json", type=Path, help="also write the results as JSON here")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is not met")


def prepare(data: Path) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` stops the servers
    data.mkdir(parents=True, exist_ok=True)
    (data / ".gitignore").write_text("*\n")  # generated data never goes into git


def finish(args: argparse.Namespace, doc: dict[str, Any], lines: list[str], failed: bool) -> int:
    """Write ``doc`` (with the target ``lines``) where --json says; 2 when a measurement
    failed, 1 when --strict and a target is not met, else 0."""
    doc["targets"] = lines
    if args.json:
        args.json.write_text(json.dumps(doc, indent=2, default=str))
    unmet = any("NOT MET" in line for line in lines)
    return 2 if failed else 1 if args.strict and unmet else 0


def entry(main: Callable[[], int]) -> NoReturn:
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
        sys.exit(130)
