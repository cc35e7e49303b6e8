"""Serving installed browser assets (OHIF, Swagger UI): content types, containment of the
requested path in its folder, and file responses read in large pieces."""

from __future__ import annotations

import mimetypes
from pathlib import Path, PurePosixPath

from quart import Response, send_file

TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".map": "application/json",
    ".jsonc": "text/plain",
    ".webapp": "application/x-web-app-manifest+json",
    ".wasm": "application/wasm",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".gif": "image/gif",
    ".ico": "image/x-icon",
    ".xml": "application/xml",
    ".txt": "text/plain",
}
_CHUNK = 256 * 1024


def content_type(path: PurePosixPath | Path) -> str:
    return (
        TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )


def inside(root: Path, subpath: str) -> Path | None:
    """``root``/``subpath`` resolved, if that stays inside ``root``; None for any escape."""
    try:
        candidate = (root / subpath).resolve()
    except (OSError, ValueError):  # a NUL byte, a symlink loop
        return None
    return candidate if candidate.is_relative_to(root) else None


async def send_asset(path: Path, kind: str | None = None) -> Response:
    """The file at ``path`` (conditional requests and ranges honoured)."""
    response: Response = await send_file(
        path, mimetype=kind or content_type(path), conditional=True
    )
    # Read in large pieces: the default 8 KiB costs two thread hops each under trio, and the
    # assets run to megabytes.
    body = response.response
    if hasattr(body, "buffer_size"):
        body.buffer_size = _CHUNK
    return response
