"""``pacs anonymize IN OUT``: de-identify a DICOM file, or a folder of them into a mirror folder.

Only the parser is built at import time: the command line imports every tool to list them, so
pydicom and the imaging code are imported when the command actually runs. Files are rewritten in
their own transfer syntax with their pixel data untouched; folders go through the batch runner
shared by the imaging commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pacs.tools.args import in_out


def configure(parser: argparse.ArgumentParser) -> None:
    in_out(parser, "the output file (or folder, for a folder IN: relative paths are mirrored)")
    parser.add_argument("--keep-uids", action="store_true", help="Retain UIDs Option")
    parser.add_argument(
        "--keep-dates",
        action="store_true",
        help="Retain Longitudinal Temporal Information with Full Dates Option",
    )
    parser.add_argument("--keep-device", action="store_true", help="Retain Device Identity Option")
    parser.add_argument(
        "--keep-private", action="store_true", help="keep private attributes (default: removed)"
    )
    parser.add_argument(
        "--secret",
        help="key for the new UIDs and patient pseudonyms: the same secret gives the same values "
        "in every run. Without it a random secret is used, so the files of one run stay "
        "consistent with each other but not with any other run",
    )


def main(args: argparse.Namespace) -> int:
    import secrets  # noqa: PLC0415

    from pacs.errors import PacsError  # noqa: PLC0415
    from pacs.imaging.deid import DeidOptions, deidentify  # noqa: PLC0415
    from pacs.imaging.files import part10_bytes, read_dataset  # noqa: PLC0415
    from pacs.tools import batch  # noqa: PLC0415

    try:
        options = DeidOptions(
            secret=args.secret or secrets.token_hex(16),
            keep_uids=args.keep_uids,
            keep_dates=args.keep_dates,
            keep_device=args.keep_device,
            keep_private=args.keep_private,
        )
    except PacsError as exc:
        print(exc.message, file=sys.stderr)
        return 2

    def convert(src: Path, dest: Path) -> None:
        dest.write_bytes(part10_bytes(deidentify(read_dataset(src), options)))

    return batch.run(args.input, args.output, convert)
