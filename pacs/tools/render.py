"""``pacs render IN OUT``: DICOM frames to JPEG or PNG files, for a look without a viewer.

IN is a file (OUT is then an image file whose extension, .jpg/.jpeg/.png, picks the format) or a
folder, searched recursively (OUT is then a folder mirroring IN's layout; ``--format`` picks the
format). Folders go through the batch runner shared by the imaging commands: a progress bar,
non-DICOM files skipped with a note, one file's failure reported without stopping the others.
Exit status: 0 all written, 1 some file failed, 2 a malformed command or nothing to render.

The command line imports every tool module to build its parser, so only light standard library
modules are imported at module level; pydicom, numpy and the imaging code load in ``main``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pacs.tools.args import in_out

if TYPE_CHECKING:
    from pacs.imaging.render import RenderOptions

FORMATS_BY_SUFFIX = {".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png"}
SUFFIX_FOR = {"jpeg": ".jpg", "png": ".png"}


def configure(parser: argparse.ArgumentParser) -> None:
    in_out(parser, "the image file (.jpg, .jpeg or .png), or a folder when IN is a folder")
    parser.add_argument("--frame", type=int, default=1, help="frame number, from 1 (default 1)")
    parser.add_argument(
        "--size", type=int, metavar="N", help="fit inside N x N pixels (never enlarges)"
    )
    parser.add_argument(
        "--window",
        metavar="C,W[,FUNCTION]",
        help="window centre and width in modality units, e.g. 40,400 "
        "(default: the file's window, else an automatic one)",
    )
    parser.add_argument("--quality", type=int, default=90, help="JPEG quality 1-100 (default 90)")
    parser.add_argument(
        "--format",
        choices=sorted(SUFFIX_FOR),
        help="image format when IN is a folder (default jpeg)",
    )


def main(args: argparse.Namespace) -> int:
    from pacs.errors import BadRenderRequest  # noqa: PLC0415 (see the module docstring)
    from pacs.imaging.files import render_file  # noqa: PLC0415
    from pacs.messages import RenderRequest  # noqa: PLC0415
    from pacs.tools import batch  # noqa: PLC0415

    src, dest = Path(args.input), Path(args.output)
    folder = src.is_dir()
    fmt = (args.format or "jpeg") if folder else FORMATS_BY_SUFFIX.get(dest.suffix.lower())
    if fmt is None:
        print(f"{dest}: the image name must end in .jpg, .jpeg or .png", file=sys.stderr)
        return 2
    try:
        options = _options(args, fmt)
    except BadRenderRequest as exc:
        print(f"pacs render: {exc.message}", file=sys.stderr)
        return 2

    def convert(path: Path, out: Path) -> None:
        out.write_bytes(render_file(RenderRequest(path=path, options=options)))

    return batch.run(src, dest, convert, suffix=SUFFIX_FOR[fmt] if folder else None)


def _options(args: argparse.Namespace, fmt: str) -> RenderOptions:
    from pacs.errors import BadRenderRequest  # noqa: PLC0415
    from pacs.imaging.render import RenderOptions, is_format, parse_window  # noqa: PLC0415

    if not is_format(fmt):
        raise BadRenderRequest(f"unknown image format {fmt!r}")
    return RenderOptions(
        frame=args.frame - 1,
        fmt=fmt,
        quality=args.quality,
        window=parse_window(args.window) if args.window else None,
        rows=args.size,
        columns=args.size,
    )
