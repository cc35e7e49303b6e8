"""``pacs transcode IN OUT --syntax UID``: re-encode files in another transfer syntax."""

from __future__ import annotations

import argparse
from pathlib import Path

from pacs.tools.args import in_out


def configure(parser: argparse.ArgumentParser) -> None:
    in_out(parser, "the output file, or a folder when IN is a folder")
    parser.add_argument(
        "--syntax", required=True, help="target transfer syntax UID (e.g. 1.2.840.10008.1.2.4.80)"
    )
    parser.add_argument("--quality", type=int, default=90, help="1-100, for lossy targets")


def main(args: argparse.Namespace) -> int:
    import sys  # noqa: PLC0415

    from pacs.imaging import files, syntaxes  # noqa: PLC0415
    from pacs.imaging.transcode import supported_targets  # noqa: PLC0415
    from pacs.messages import TranscodeRequest  # noqa: PLC0415
    from pacs.tools import batch  # noqa: PLC0415

    if args.syntax not in supported_targets():
        known = syntaxes.lookup(args.syntax)
        what = f"{known.name} cannot be written here" if known else "unknown transfer syntax"
        print(f"--syntax {args.syntax}: {what}; writable:", file=sys.stderr)
        for uid in supported_targets():
            print(f"  {uid}  {syntaxes.SYNTAXES[uid].name}", file=sys.stderr)
        return 2
    if not 1 <= args.quality <= 100:
        print("--quality must be between 1 and 100", file=sys.stderr)
        return 2

    def convert(src: Path, dest: Path) -> None:
        request = TranscodeRequest(path=src, transfer_syntax=args.syntax, quality=args.quality)
        dest.write_bytes(files.transcode_file(request))

    return batch.run(args.input, args.output, convert)
