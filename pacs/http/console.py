"""The web console: static files, no build step. ``web/`` of the checkout holds its page
(index.html, served at /), and its scripts, styles and translations (served at /console/...);
the browser libraries it uses come from npm, pinned, installed by the set-up
(`scripts/web-assets`) into ``.cache/web/NAME/dist`` and served at /static/NAME/... — never from
a CDN at run time.

All of it is open (`pacs.http.auth` needs no account for it): these files hold no data; the
page asks the API for everything, with the session cookie. The page itself is served with a
Content-Security-Policy that lets it load scripts, styles and data from this origin only."""

from __future__ import annotations

from pathlib import Path

import trio
from quart import Blueprint, Response
from quart_schema import hide

from pacs.http.problems import problem
from pacs.http.static import inside, send_asset

ROOT = Path(__file__).resolve().parents[2]
WEB_DIR = ROOT / "web"
ASSETS_DIR = ROOT / ".cache" / "web"
# The npm packages scripts/web-assets installs for the console, each at /static/NAME/.
PACKAGES = ("cornerstone-core", "cornerstone-wado-image-loader", "dicom-parser")
NOT_INSTALLED = "{} is not installed: run scripts/web-assets"
# The image loader decodes in a worker it makes from a blob, with codecs in WebAssembly that it
# fetches from data: URLs and whose Emscripten glue makes functions from strings: hence blob:,
# data: and the two eval sources; everything else comes from this origin alone.
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self' data: blob:",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)


def _file(root: Path, subpath: str) -> Path | None:
    """(Blocking, run in a thread.) The file ``subpath`` names under ``root``, if any."""
    path = inside(root.resolve(), subpath)
    return path if path is not None and path.is_file() else None


async def _send(path: Path) -> Response:
    response = await send_asset(path)
    response.headers["Cache-Control"] = "no-cache"  # revalidated: the ETag makes that cheap
    response.headers["X-Content-Type-Options"] = "nosniff"
    if path.suffix == ".html":
        response.headers["Content-Security-Policy"] = CSP
        response.headers["Referrer-Policy"] = "same-origin"
    return response


def blueprint(web_dir: Path = WEB_DIR, assets_dir: Path = ASSETS_DIR) -> Blueprint:
    """The console from ``web_dir`` at / and /console/, the npm packages installed under
    ``assets_dir`` at /static/NAME/."""
    web = web_dir.resolve()
    assets = assets_dir.resolve()
    bp = Blueprint("console", __name__)

    @bp.get("/")
    @hide
    async def index() -> Response:
        """The console's page."""
        return await console_file("index.html")

    @bp.get("/console/<path:subpath>")
    @hide
    async def console_file(subpath: str) -> Response:
        """A file of the console: script, style sheet, translation table, image."""
        path = await trio.to_thread.run_sync(_file, web, subpath)
        if path is None:
            return problem(404, f"no console file {subpath!r}")
        return await _send(path)

    names = ", ".join(f'"{name}"' for name in PACKAGES)

    @bp.get(f"/static/<any({names}):package>/<path:subpath>")
    @hide
    async def package_file(package: str, subpath: str) -> Response:
        """A file of one of the console's npm packages."""
        root = assets / package / "dist"
        if not await trio.to_thread.run_sync(root.is_dir):
            return problem(503, NOT_INSTALLED.format(package))
        path = await trio.to_thread.run_sync(_file, root, subpath)
        if path is None:
            return problem(404, f"no file {subpath!r} in {package}")
        return await _send(path)

    return bp
