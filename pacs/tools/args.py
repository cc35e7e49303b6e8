"""Arguments every imaging command shares. Standard library only: the command line imports each
tool module to build its parser, before any command runs."""

from __future__ import annotations

import argparse
from pathlib import Path


def in_out(parser: argparse.ArgumentParser, output: str) -> None:
    """IN (a DICOM file or a folder, searched recursively) and OUT, described by ``output``."""
    parser.add_argument(
        "input", type=Path, metavar="IN", help="a DICOM file, or a folder (recursively)"
    )
    parser.add_argument("output", type=Path, metavar="OUT", help=output)
