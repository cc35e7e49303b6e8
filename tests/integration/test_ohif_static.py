"""OHIF at /ohif/ (`pacs.http.ohif`) over the dist `scripts/ohif-assets` installs: the rebased
index.html and bundles, our app-config.js, the fallback to index.html for OHIF's routes, content
types, caching, no way out of the dist, a 503 without it; then the viewer itself in Chromium
(`scripts/browser-deps`), served by hypercorn, loading every asset from /ohif/ and asking our
DICOMweb, on the same origin and with the session cookie, for the study list."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import trio
from hypercorn.config import Config
from hypercorn.trio import serve
from quart import Response, request
from quart_trio import QuartTrio

from pacs.http.ohif import NOT_INSTALLED, blueprint, installed_root

ROOT = Path(__file__).resolve().parents[2]
DIST = installed_root(ROOT)
CHROMIUM = Path("/usr/bin/chromium")
needs_dist = pytest.mark.skipif(
    DIST is None, reason="OHIF is not installed in .cache/ohif: run scripts/ohif-assets"
)
WEBPACK_ROOT = b'__webpack_require__.p = "/";'


def make_app(root: Path | None, **options: str) -> QuartTrio:
    app = QuartTrio("ohif-test")
    app.register_blueprint(blueprint(root, **options))
    return app


def dist() -> Path:
    assert DIST is not None
    return DIST


async def get(app: QuartTrio, path: str, **headers: str) -> tuple[Response, bytes]:
    response = await app.test_client().get(path, headers=headers)
    return response, await response.get_data()


@needs_dist
async def test_index_is_rebased_onto_ohif() -> None:
    response, body = await get(make_app(dist()), "/ohif/")
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"
    text = body.decode()
    assert 'window.PUBLIC_URL="/ohif/"' in text and 'window.PUBLIC_URL="/"' not in text
    assert re.search(r'<script[^>]* src="/ohif/app\.bundle\.[0-9a-f]+\.js"', text)
    assert 'src="/ohif/app-config.js"' in text
    assert not re.search(r'(?:src|href|content)="/(?!ohif/)', text), "a path left under /"


@needs_dist
async def test_app_config_is_ours() -> None:
    app = make_app(dist(), dicomweb="/pacs/dicomweb/", name="archive")
    response, body = await get(app, "/ohif/app-config.js")
    assert response.status_code == 200
    assert response.content_type == "text/javascript; charset=utf-8"
    text = body.decode()
    literal = re.search(r"window\.config = (\{.*?\n\});", text, re.S)
    assert literal, text
    config = json.loads(literal.group(1))
    assert config["routerBasename"] == "/ohif"
    assert config["defaultDataSourceName"] == "archive"
    assert "oidc" not in config
    [source] = config["dataSources"]
    assert source["sourceName"] == "archive"
    assert source["namespace"] == "@ohif/extension-default.dataSourcesModule.dicomweb"
    settings = source["configuration"]
    assert settings["qidoRoot"] == settings["wadoRoot"] == "/pacs/dicomweb"
    assert settings["imageRendering"] == settings["thumbnailRendering"] == "wadors"
    for flag in (
        "qidoSupportsIncludeField",
        "enableStudyLazyLoad",
        "supportsFuzzyMatching",
        "omitQuotationForMultipartRequest",
    ):
        assert settings[flag] is True, flag
    # made absolute on this origin in the browser
    assert "window.location.origin + source.qidoRoot" in text


async def test_app_config_default_root_needs_no_dist(tmp_path: Path) -> None:
    response, body = await get(make_app(tmp_path), "/ohif/app-config.js")
    assert response.status_code == 200
    assert '"qidoRoot": "/dicomweb"' in body.decode()
    with pytest.raises(ValueError, match="path on this origin"):
        blueprint(tmp_path, dicomweb="https://elsewhere.example/dicomweb")


@needs_dist
@pytest.mark.parametrize(
    "path",
    [
        "/ohif/viewer?StudyInstanceUIDs=1.2.840.113619.2.1",
        "/ohif/viewer/pacs?StudyInstanceUIDs=1.2.3&SeriesInstanceUIDs=1.2.3.4",
        "/ohif/segmentation",
        "/ohif/notfoundstudy",
        "/ohif/index.html",
    ],
)
async def test_app_routes_answer_index_html(path: str) -> None:
    app = make_app(dist())
    _, index = await get(app, "/ohif/")
    response, body = await get(app, path)
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    assert body == index


@needs_dist
async def test_missing_asset_is_404_not_html() -> None:
    response, body = await get(make_app(dist()), "/ohif/1234.bundle.0123456789abcdef.js")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert b"1234.bundle" in body


TRAVERSALS = [
    "/ohif/../../etc/passwd",
    "/ohif/../../../../../../etc/passwd",
    "/ohif/assets/../../../../../../etc/passwd",
    "/ohif/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/ohif/%2E%2E%2F%2E%2E%2F%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "/ohif/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/ohif/assets/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/ohif/x%00.js",
]


@needs_dist
@pytest.mark.parametrize("path", TRAVERSALS)
async def test_traversal_is_404(path: str) -> None:
    response, body = await get(make_app(dist()), path)
    assert response.status_code == 404, (path, body[:200])
    assert response.content_type == "application/problem+json"
    assert b"root:" not in body


@needs_dist
@pytest.mark.parametrize("path", ["/ohif//etc/passwd", "/ohif/%2fetc%2fpasswd"])
async def test_absolute_paths_stay_in_ohif(path: str) -> None:
    response, body = await get(make_app(dist()), path)
    assert b"root:" not in body
    assert response.status_code == 308  # to /ohif/etc/passwd: an app route, index.html
    assert response.headers["Location"].endswith("/ohif/etc/passwd")


async def test_symlink_out_of_the_dist_is_404(tmp_path: Path) -> None:
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "index.html").write_text("<!doctype html><title>x</title>")
    (tmp_path / "secret.txt").write_text("secret")
    (tmp_path / "dist" / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (tmp_path / "dist" / "up").symlink_to(tmp_path)
    app = make_app(installed_root(tmp_path))
    for path in ("/ohif/leak.txt", "/ohif/up/secret.txt"):
        response, body = await get(app, path)
        assert response.status_code == 404, path
        assert b"secret" not in body


@needs_dist
async def test_content_types_and_caching() -> None:
    app = make_app(dist())
    wasm = min(dist().glob("*.wasm"), key=lambda p: p.stat().st_size)
    response, body = await get(app, f"/ohif/{wasm.name}", Range="bytes=0-3")
    assert response.status_code == 206
    assert response.content_type == "application/wasm"
    assert body == b"\0asm"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    for name, expected in {
        next(p.name for p in dist().glob("*.woff2")): "font/woff2",
        "app.bundle.css": "text/css; charset=utf-8",
        "manifest.json": "application/json",
        "assets/favicon.ico": "image/x-icon",
        "init-service-worker.js": "text/javascript; charset=utf-8",
    }.items():
        response, _ = await get(app, f"/ohif/{name}")
        assert response.status_code == 200, name
        assert response.content_type == expected, name
        assert response.headers["X-Content-Type-Options"] == "nosniff"


@needs_dist
async def test_bundles_css_and_manifest_are_rebased() -> None:
    app = make_app(dist())
    bundles = [p for p in dist().glob("*.js") if WEBPACK_ROOT in p.read_bytes()]
    assert any(p.name.startswith("app.bundle.") for p in bundles), "webpack runtime not found"
    for path in bundles:
        response, body = await get(app, f"/ohif/{path.name}")
        assert response.status_code == 200
        assert WEBPACK_ROOT not in body, path.name
        assert b'__webpack_require__.p = "/ohif/";' in body, path.name
        etag = response.headers["ETag"]
        again, _ = await get(app, f"/ohif/{path.name}", **{"If-None-Match": etag})
        assert again.status_code == 304
    _, css = await get(app, "/ohif/app.bundle.css")
    assert b"url(/ohif/" in css and not re.search(rb"url\(['\"]?/(?!ohif/)", css)
    _, manifest = await get(app, "/ohif/manifest.json")
    icons = json.loads(manifest)["icons"]
    assert icons and all(icon["src"].startswith("/ohif/assets/") for icon in icons)
    # the dist on disk stays as published
    assert WEBPACK_ROOT in next(dist().glob("app.bundle.*.js")).read_bytes()


async def test_not_installed_is_503(tmp_path: Path) -> None:
    for root in (None, tmp_path, installed_root(tmp_path)):
        for path in ("/ohif/", "/ohif/viewer", "/ohif/app.bundle.css"):
            response, body = await get(make_app(root), path)
            assert response.status_code == 503
            assert response.content_type == "application/problem+json"
            problem = json.loads(body)
            assert problem["title"] == "Service Unavailable"
            assert problem["detail"] == NOT_INSTALLED
    assert NOT_INSTALLED == "OHIF is not installed: run scripts/ohif-assets"


def browser_missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: run scripts/browser-deps"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing: run scripts/browser-deps"
    return None


def browse(base: str) -> dict[str, Any]:
    """Open the study list in headless Chromium; what the page asked for and what went wrong."""
    from playwright.sync_api import sync_playwright

    seen: dict[str, Any] = {"requests": [], "failed": [], "errors": []}
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        try:
            context = browser.new_context()
            context.add_cookies([{"name": "pacs_session", "value": "s3cret", "url": base}])
            page = context.new_page()
            page.on("request", lambda r: seen["requests"].append(r.url))
            page.on("response", lambda r: r.status >= 400 and seen["failed"].append(r.url))
            page.on("requestfailed", lambda r: seen["failed"].append(r.url))
            page.on("pageerror", lambda e: seen["errors"].append(str(e)))
            with page.expect_request(lambda r: "/dicomweb/studies" in r.url, timeout=90_000):
                page.goto(f"{base}/ohif/", timeout=90_000)
            page.get_by_text("No studies available").wait_for(timeout=60_000)
            seen["url"] = page.url
            seen["title"] = page.title()
        finally:
            browser.close()
    return seen


@needs_dist
@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
async def test_viewer_runs_under_ohif_in_chromium() -> None:
    app = make_app(dist())
    asked: list[tuple[str, str | None]] = []

    @app.get("/dicomweb/studies")
    async def studies() -> Response:  # the real DICOMweb is not mounted: an empty archive
        asked.append((request.full_path, request.cookies.get("pacs_session")))
        return Response("[]", content_type="application/dicom+json")

    config = Config()
    config.bind = ["127.0.0.1:0"]
    config.accesslog = None
    config.errorlog = None
    async with trio.open_nursery() as nursery:
        [base] = await nursery.start(serve, app, config)
        seen = await trio.to_thread.run_sync(browse, base)
        nursery.cancel_scope.cancel()

    assert seen["title"] == "OHIF Viewer"
    assert seen["url"] == f"{base}/ohif/"
    assert not seen["errors"], seen["errors"]
    assert not seen["failed"], seen["failed"]
    assert all(url.startswith(f"{base}/") for url in seen["requests"]), "a request elsewhere"
    assets = [url for url in seen["requests"] if "/dicomweb/" not in url]
    assert all(url.startswith(f"{base}/ohif/") for url in assets), assets
    assert any(re.search(r"/ohif/app\.bundle\.[0-9a-f]+\.js$", url) for url in assets)
    assert any(re.search(r"/ohif/\d+\.bundle\.[0-9a-f]+\.js$", url) for url in assets), "chunks"
    assert asked, "OHIF did not ask for the study list"
    path, cookie = asked[0]
    assert path.startswith("/dicomweb/studies?")
    assert "includefield=" in path and "fuzzymatching=true" in path
    assert cookie == "s3cret"
