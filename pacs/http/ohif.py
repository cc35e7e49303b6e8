"""OHIF Viewer v3 at /ohif/: the prebuilt dist of the npm package `@ohif/app`, installed (never
committed) by `scripts/ohif-assets` into `.cache/ohif/dist`, with an app-config.js of ours that
points it at this server's DICOMweb on the same origin. The browser's requests carry the session
cookie by themselves, so OHIF needs no auth settings; whether /ohif/ needs an account is the
caller's decision (`pacs.http.auth` leaves it open: these are static files).

The public path. The dist is built for "/": index.html names its assets "/app.bundle.….js", every
webpack runtime in it sets `__webpack_require__.p = "/"` (the base of each lazily loaded chunk,
worker, image and wasm), app.bundle.css takes its font from "/….woff2", the manifests their icons
from "/assets/…". At run time OHIF reads `window.PUBLIC_URL` and the config's `routerBasename`,
but only for its router and a few libraries: the chunk base is compiled in. So the files carrying
such paths are rebased onto /ohif/ as they are served (read and rewritten once, then kept in
memory) and the installed dist stays byte for byte as published: a new OHIF version needs no
patch step, and the prefix lives here only. Were a rewrite to stop matching, the browser would ask
for assets under "/" and get 404s, which tests/integration/test_ohif_static.py looks for.

Any other path under /ohif/ that names no file answers index.html, for OHIF's own routes
(/ohif/viewer?StudyInstanceUIDs=…), except names with a static file's extension: a missing chunk
is a 404, not a page of HTML the browser would try to run."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path, PurePosixPath
from typing import Any

import attrs
import trio
from quart import Blueprint, Response, request

from pacs.http.problems import problem
from pacs.http.static import TYPES, content_type, inside, send_asset

PREFIX = "/ohif"
NOT_INSTALLED = "OHIF is not installed: run scripts/ohif-assets"
# Where scripts/ohif-assets installs the dist, under the project directory.
INSTALL_DIR = Path(".cache") / "ohif"

# Content-hashed names ("app.bundle.0f6159c501addfe9.js", "0ddf166f7a343eda.wasm") never change.
_HASHED = re.compile(r"(?:^|[./])[0-9a-f]{16}\.[a-z0-9]+$")
_IMMUTABLE = "public, max-age=31536000, immutable"

Rule = tuple[re.Pattern[bytes], bytes]


def _rules(prefix: str) -> dict[str, tuple[Rule, ...]]:
    """Per file suffix, what rebases the dist's root-relative paths onto ``prefix``."""
    base = prefix.encode() + b"/"
    attribute: Rule = (re.compile(rb'((?:href|src|content)=")/(?![/"])'), rb"\1" + base)
    return {
        ".html": (
            attribute,
            (re.compile(rb'(window\.PUBLIC_URL\s*=\s*)"/"'), rb'\1"' + base + b'"'),
        ),
        ".js": (
            (re.compile(rb'(__webpack_require__\.p = )"/";'), rb'\1"' + base + b'";'),
            (re.compile(rb"(browserImportFunction\(['\"])/(?!/)"), rb"\1" + base),
        ),
        ".css": ((re.compile(rb"(url\([\"']?)/(?!/)"), rb"\1" + base),),
        ".json": ((re.compile(rb'(:\s*")/(?![/"])'), rb"\1" + base),),
        ".webapp": ((re.compile(rb'(:\s*")/(?![/"])'), rb"\1" + base),),
        ".xml": (attribute,),
    }


@attrs.frozen
class _Body:
    """A rewritten file: its bytes and their ETag."""

    data: bytes
    etag: str


@attrs.define
class _Rebaser:
    """Rewrites files as `_rules` says, once per file version; None: served as it is on disk.
    Called in worker threads: two racing for one file both rewrite it, and either result is kept."""

    rules: dict[str, tuple[Rule, ...]]
    _cache: dict[Path, tuple[tuple[int, int], _Body | None]] = attrs.field(factory=dict)

    def get(self, path: Path) -> _Body | None:
        rules = self.rules.get(path.suffix)
        if not rules:
            return None
        stat = path.stat()
        version = (stat.st_mtime_ns, stat.st_size)
        hit = self._cache.get(path)
        if hit is None or hit[0] != version:
            hit = self._cache[path] = (version, _rewrite(path, rules))
        return hit[1]


def _rewrite(path: Path, rules: tuple[Rule, ...]) -> _Body | None:
    original = data = path.read_bytes()
    for pattern, replacement in rules:
        data = pattern.sub(replacement, data)
    if data == original:
        return None
    return _Body(data, hashlib.blake2b(data, digest_size=16).hexdigest())


def app_config(dicomweb: str = "/dicomweb", name: str = "pacs") -> str:
    """OHIF's app-config.js: one DICOMweb data source, ``name``, at ``dicomweb`` on this origin."""
    source = {
        "namespace": "@ohif/extension-default.dataSourcesModule.dicomweb",
        "sourceName": name,
        "configuration": {
            "friendlyName": name,
            "name": name,
            "qidoRoot": dicomweb,
            "wadoRoot": dicomweb,
            "wadoUriRoot": dicomweb,
            "qidoSupportsIncludeField": True,
            "imageRendering": "wadors",
            "thumbnailRendering": "wadors",
            "enableStudyLazyLoad": True,
            "supportsFuzzyMatching": True,
            "omitQuotationForMultipartRequest": True,
        },
    }
    config: dict[str, Any] = {
        "routerBasename": PREFIX,
        "showStudyList": True,
        "extensions": [],
        "modes": [],
        "customizationService": {},
        "maxNumberOfWebWorkers": 3,
        "showWarningMessageForCrossOrigin": False,
        "showCPUFallbackMessage": True,
        "showLoadingIndicator": True,
        "strictZSpacingForVolumeViewport": True,
        "defaultDataSourceName": name,
        "dataSources": [source],
    }
    return (
        "/* Generated by pacs.http.ohif: OHIF uses this server's DICOMweb on the same origin;\n"
        " * the browser sends the session cookie with each request. */\n"
        f"window.config = {json.dumps(config, indent=2)};\n"
        "(function (source) {\n"
        "  var root = window.location.origin + source.qidoRoot;\n"
        "  source.qidoRoot = source.wadoRoot = source.wadoUriRoot = root;\n"
        "})(window.config.dataSources[0].configuration);\n"
    )


def installed_root(base: Path) -> Path | None:
    """The OHIF dist under ``base`` (the project directory, or `.cache/ohif` itself), if there."""
    for dist in (base / INSTALL_DIR / "dist", base / "dist"):
        if (dist / "index.html").is_file():
            return dist
    return None


def blueprint(root: Path | None, *, dicomweb: str = "/dicomweb", name: str = "pacs") -> Blueprint:
    """OHIF at /ohif/ from the dist at ``root`` (see `installed_root`), its data source ``name``
    being the DICOMweb service at the same-origin path ``dicomweb``. A missing dist is a 503."""
    if not dicomweb.startswith("/") or dicomweb.startswith("//"):
        raise ValueError(f"dicomweb must be a path on this origin, not {dicomweb!r}")
    config = app_config(dicomweb.rstrip("/") or "/", name)
    resolved = root.resolve() if root is not None else None
    serve = _Server(resolved, _Rebaser(_rules(PREFIX)))
    bp = Blueprint("ohif", __name__, url_prefix=PREFIX)

    @bp.get("/app-config.js")
    async def app_config_js() -> Response:
        response = Response(config, mimetype="text/javascript")
        response.headers["Cache-Control"] = "no-cache"
        return response

    @bp.get("/", defaults={"subpath": ""})
    @bp.get("/<path:subpath>")
    async def files(subpath: str) -> Response:
        return await serve(subpath)

    return bp


@attrs.frozen
class _Found:
    """What answers a path: a file of the dist, maybe rewritten, or index.html for a route."""

    path: Path
    body: _Body | None
    route: bool


@attrs.frozen
class _Server:
    """Answers a path under /ohif/: a file of the dist, index.html for app routes, or a problem."""

    root: Path | None
    rebaser: _Rebaser

    async def __call__(self, subpath: str) -> Response:
        found = await trio.to_thread.run_sync(self._locate, subpath)
        if not isinstance(found, _Found):
            return problem(*found)
        kind = content_type(found.path)
        if found.body is None:
            response: Response = await send_asset(found.path, kind)
        else:
            data = found.body.data
            response = Response(data, mimetype=kind)
            response.set_etag(found.body.etag)
            await response.make_conditional(request, accept_ranges=True, complete_length=len(data))
        hashed = not found.route and _HASHED.search(found.path.name) is not None
        response.headers["Cache-Control"] = _IMMUTABLE if hashed else "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    def _locate(self, subpath: str) -> _Found | tuple[int, str]:
        """(Blocking file system work, run in a thread.) What answers ``subpath``."""
        root = self.root
        if root is None or not (root / "index.html").is_file():
            return 503, NOT_INSTALLED
        path = inside(root, subpath)
        if path is None:
            return 404, "no such file"
        if path.is_file():
            return _Found(path, self.rebaser.get(path), route=False)
        if PurePosixPath(subpath).suffix in TYPES:
            return 404, f"no such file: {PREFIX}/{subpath}"
        index = root / "index.html"  # one of OHIF's routes: the app finds its way from the URL
        return _Found(index, self.rebaser.get(index), route=True)
