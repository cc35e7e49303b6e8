"""The console's files as `pacs.http.console` serves them: the page at / with its security
headers, its scripts, styles and translations under /console/, the npm packages under /static/,
no way out of either folder, a 503 naming the set-up step when the packages are missing; then
the translation tables (the same keys in both languages, every key the pages use present), the
size of the files, and the real server serving all of it without a login."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests
from quart import Response
from quart_trio import QuartTrio

from pacs.http import console
from pacs.http.auth import is_open
from tests.conftest import ROOT, Server

WEB = ROOT / "web"
LANGUAGES = ("en", "zh-CN")
# Keys the pages build from a prefix and a value (`delete.title_${level}`, `role.${role}`, ...).
FAMILIES = {
    "delete.title_": ("study", "series"), "delete.confirm_": ("study", "series"),
    "delete.done_": ("study", "series"), "role.": ("admin", "operator", "viewer"),
    "nav.": ("nodes", "monitoring", "settings", "logs"),
    "viewer.tool_": ("wl", "pan", "zoom", "scroll"),
    "sort.": ("-study_date", "study_date", "patient_name", "-patient_name", "-received",
              "received"),
}  # fmt: skip
USED = re.compile(
    r"""(?:i18n\w*:\s*|data-i18n[\w-]*="|\bt\(|label\([\w.]+,\s*|field\(|tile\(|title:\s*|confirm:\s*"""
    r"""|message\s*\?\s*|\bkey\s*=\s*)["']([a-z_]+\.[\w-]+)["']"""
)


def make_app(assets: Path = console.ASSETS_DIR) -> QuartTrio:
    app = QuartTrio("console-test")
    app.register_blueprint(console.blueprint(WEB, assets))
    return app


async def get(app: QuartTrio, path: str, **headers: str) -> tuple[Response, bytes]:
    response = await app.test_client().get(path, headers=headers)
    return response, await response.get_data()


def needs_assets() -> None:
    if not (console.ASSETS_DIR / "cornerstone-core" / "dist").is_dir():
        pytest.fail("the console's npm packages are not installed: run scripts/web-assets")


async def test_the_page_and_its_headers() -> None:
    response, body = await get(make_app(), "/")
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-cache"
    text = body.decode()
    assert '<script type="module" src="/console/js/app.js">' in text
    # every asset of the page is ours, on this origin
    assert not re.search(r'(?:src|href)="(?:https?:)?//', text)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/console/js/app.js", "text/javascript"),
        ("/console/js/pages/viewer.js", "text/javascript"),
        ("/console/css/console.css", "text/css"),
        ("/console/i18n/zh-CN.json", "application/json"),
        ("/console/img/icon.svg", "image/svg+xml"),
    ],
)
async def test_console_files(path: str, kind: str) -> None:
    response, body = await get(make_app(), path)
    assert response.status_code == 200, body[:200]
    assert response.mimetype == kind
    assert "Content-Security-Policy" not in response.headers  # only the page needs one
    again, _ = await get(make_app(), path, **{"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "/console/../pacs/http/console.py",
        "/console/%2e%2e/pyproject.toml",
        "/console/js/../../pyproject.toml",
        "/console/nothing.js",
        "/console/js",
        "/static/cornerstone-core/../../../pyproject.toml",
        "/static/cornerstone-core/nothing.js",
        "/static/left-pad/index.js",
    ],
)
async def test_nothing_else(path: str) -> None:
    needs_assets()
    response, body = await get(make_app(), path)
    assert response.status_code == 404, (path, body[:200])


async def test_npm_packages() -> None:
    needs_assets()
    app = make_app()
    for path in (
        "/static/cornerstone-core/cornerstone.min.js",
        "/static/dicom-parser/dicomParser.min.js",
        "/static/cornerstone-wado-image-loader/"
        "cornerstoneWADOImageLoaderNoWebWorkers.bundle.min.js",
    ):
        # A range: Quart's test client under trio stalls on a file body of several chunks
        # (the browser tests fetch the whole files from the real server).
        response, body = await get(app, path, Range="bytes=0-1023")
        assert response.status_code == 206, path
        assert response.mimetype == "text/javascript"
        assert len(body) == 1024


async def test_packages_not_installed(tmp_path: Path) -> None:
    response, body = await get(make_app(tmp_path), "/static/cornerstone-core/cornerstone.min.js")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert "run scripts/web-assets" in json.loads(body)["detail"]


def _tables() -> dict[str, dict[str, str]]:
    return {
        lang: json.loads((WEB / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
        for lang in LANGUAGES
    }


def test_translation_tables_match() -> None:
    tables = _tables()
    english, chinese = tables["en"], tables["zh-CN"]
    assert sorted(english) == sorted(chinese)
    assert all(text.strip() for table in tables.values() for text in table.values())
    # the Chinese table is Chinese: most of its texts have Han characters
    han = [key for key, text in chinese.items() if re.search(r"[\u4e00-\u9fff]", text)]
    assert len(han) > 0.9 * len(chinese) - 5, sorted(set(chinese) - set(han))


def test_every_key_the_pages_use_is_translated() -> None:
    english = _tables()["en"]
    sources = [*WEB.rglob("*.js"), WEB / "index.html"]
    used = {key for path in sources for key in USED.findall(path.read_text(encoding="utf-8"))}
    used |= {prefix + value for prefix, values in FAMILIES.items() for value in values}
    assert len(used) > 100, "the pattern no longer finds the keys"
    assert sorted(used - set(english)) == []


def test_files_stay_small() -> None:
    sizes = {
        str(path.relative_to(WEB)): len(path.read_text(encoding="utf-8").splitlines())
        for path in WEB.rglob("*")
        if path.suffix in (".js", ".css", ".html")
    }
    assert {name: n for name, n in sizes.items() if n > 400} == {}


def test_console_paths_are_open() -> None:
    """`pacs.http.auth` lets anyone fetch the console's files (they hold no data)."""
    for path in ("/", "/console/js/app.js", "/static/cornerstone-core/cornerstone.min.js"):
        assert is_open(path, "GET"), path
    assert not is_open("/consoles", "GET") and not is_open("/api/studies", "GET")


def test_the_server_serves_the_console(make_server: object) -> None:
    """The real application mounts the console (without tests/console/shim)."""
    needs_assets()
    server: Server = make_server().start()  # type: ignore[operator]
    for path, kind in (
        ("/", "text/html"),
        ("/console/js/app.js", "text/javascript"),
        ("/static/cornerstone-core/cornerstone.min.js", "text/javascript"),
    ):
        response = requests.get(server.url + path, timeout=10)
        assert response.status_code == 200, (path, response.status_code, response.text[:200])
        assert response.headers["Content-Type"].startswith(kind)
