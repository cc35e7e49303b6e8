"""The console's browser tests share one real `pacs serve`, holding a CT study of a Chinese
patient stored with DCMTK's storescu, and one headless Chromium (Debian's). Each test opens its
own browser context, records every request, failed response and console message in it, and saves
screenshots under tests/artifacts/console."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom.uid import JPEG2000Lossless, JPEGLSLossless, generate_uid

from tests.conftest import ROOT, Server, require_dcmtk, send_file
from tests.dicomgen import make_ct, write
from tests.integration.test_ohif_viewer import SIZE, hounsfield

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts" / "console"
ASSETS = ROOT / ".cache" / "web"
SLICES = 10
EXTRA_STUDIES = 9  # with the three of the tests, two pages of ten
PATIENT_NAME, PATIENT_ID = "Zhang^San=张^三", "ZS-0001"
PASSWORD = "console-password"
# Accounts made with the CLI (admin/admin, made by the first start, is the first test's).
ACCOUNTS = {"chief": "admin", "polyglot": "operator", "reader": "viewer", "keeper": "admin"}
# Endpoints other parts of the project are still writing: a 404 from them is the page's
# "not available yet", not a failure, where a test allows it.
PENDING = re.compile(r"/api/(nodes|settings|logs|monitoring)(/|\?|$)")


@dataclass(frozen=True)
class Site:
    server: Server
    study: str
    phantom: str  # the CT series of SLICES slices
    scout: str  # a second series of two small images
    sops: tuple[str, ...]
    compressed_study: str  # another patient's, its series compressed: syntax name -> series
    compressed: dict[str, str]

    @property
    def url(self) -> str:
        return self.server.url


def _phantom(
    folder: Path, study: str, series: str, slices: int = SLICES, **extra: Any
) -> list[str]:
    frame, sops = generate_uid(), []
    extra = {"patient_name": PATIENT_NAME, "patient_id": PATIENT_ID, "SeriesNumber": 1,
             "SeriesDescription": "Axial phantom", **extra}  # fmt: skip
    syntax = extra.pop("syntax", None)
    for i in range(slices):
        z = -2.5 * i
        ds = make_ct(
            study=study, series=series, number=i + 1, rows=SIZE, columns=SIZE,
            SpecificCharacterSet="ISO_IR 192", FrameOfReferenceUID=frame,
            ImagePositionPatient=[-(SIZE - 1) / 2, -(SIZE - 1) / 2, z],
            ImageOrientationPatient=[1, 0, 0, 0, 1, 0], PixelSpacing=[1, 1], SliceThickness=2.5,
            RescaleIntercept=-1024, RescaleSlope=1, RescaleType="HU", WindowCenter=40,
            WindowWidth=400, **extra,
        )  # fmt: skip
        stored = np.clip(np.rint(hounsfield(i)) + 1024, 0, 2**ds.BitsStored - 1)
        ds.PixelData = stored.astype("<u2").tobytes()
        if syntax is not None:
            ds.compress(syntax)
        write(ds, folder / f"{series}-{i:02d}.dcm")
        sops.append(ds.SOPInstanceUID)
    return sops


def _store(server: Server, folder: Path) -> Site:
    study, phantom, scout = generate_uid(), generate_uid(), generate_uid()
    sops = _phantom(folder, study, phantom)
    for i in range(2):
        ds = make_ct(study=study, series=scout, number=i + 1, rows=64, columns=64, seed=i,
                     patient_name=PATIENT_NAME, patient_id=PATIENT_ID, SeriesNumber=2,
                     SeriesDescription="Scout", SpecificCharacterSet="ISO_IR 192")  # fmt: skip
        write(ds, folder / f"scout{i}.dcm")
    compressed_study = generate_uid()
    compressed = {}
    for number, syntax in enumerate((JPEG2000Lossless, JPEGLSLossless), start=1):
        compressed[syntax.name] = series = generate_uid()
        alone = folder.parent / f"in-{number}"
        _phantom(alone, compressed_study, series, 3, patient_name="Wang^Wu=王^五",
                 patient_id="WW-0003", SeriesNumber=number, SeriesDescription=syntax.name,
                 syntax=syntax)  # fmt: skip
        for path in sorted(alone.iterdir()):  # proposing each file's own syntax
            assert send_file(server.dicom_port, path) == 0x0000, path
    other = make_ct(patient_name="Li^Si=李^四", patient_id="LS-0002", modality="MR",
                    study_date="20230101", SpecificCharacterSet="ISO_IR 192")  # fmt: skip
    write(other, folder / "mr.dcm")
    for n in range(EXTRA_STUDIES):  # to have pages of studies
        filler = make_ct(patient_name=f"Filler^{n:02d}", patient_id=f"F-{n:02d}", rows=8,
                         columns=8, study_date=f"2022{n + 1:02d}01")  # fmt: skip
        write(filler, folder / f"filler{n}.dcm")
    server.store_folder(folder)
    return Site(server, study, phantom, scout, tuple(sops), compressed_study, compressed)


def _check_setup() -> None:
    require_dcmtk()
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/browser-deps installs Debian's chromium")
    missing = [
        name for name in ("cornerstone-core", "dicom-parser") if not (ASSETS / name).is_dir()
    ]
    if missing:
        pytest.fail(f"{missing} not installed in .cache/web: run scripts/web-assets")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    _check_setup()
    home = tmp_path_factory.mktemp("console")
    server = Server(home)
    server.start()
    try:
        for name, role in ACCOUNTS.items():
            server.add_user(name, PASSWORD, role)
        yield _store(server, home / "in")
    finally:
        server.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Traffic:
    """What the pages of one browser context asked and what went wrong."""

    urls: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def response(self, response: Any) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.status} {response.request.method} {response.url}")

    def request_failed(self, request: Any) -> None:
        self.failed.append(f"{request.failure} {request.method} {request.url}")

    def console(self, message: Any) -> None:
        # "Failed to load resource" repeats a failed response, which `failed` judges itself.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(f"console: {message.text}")


class Tab:
    """One browser context with one page on the site, its traffic recorded."""

    def __init__(self, browser: Any, site: Site, name: str, width: int = 1280) -> None:
        self.site = site
        self.name = name
        self.traffic = Traffic()
        self.context = browser.new_context(
            viewport={"width": width, "height": 800}, accept_downloads=True, locale="en-US"
        )
        self.context.set_default_timeout(15_000)
        self.context.on("response", self.traffic.response)
        self.context.on("requestfailed", self.traffic.request_failed)
        self.context.on("console", self.traffic.console)
        self.context.on("weberror", lambda error: self.traffic.errors.append(str(error.error)))
        self.context.on("request", lambda request: self.traffic.urls.append(request.url))
        self.page = self.context.new_page()

    def open(self, fragment: str = "") -> None:
        self.page.goto(f"{self.site.url}/{fragment}")

    def login(self, username: str, password: str = PASSWORD) -> None:
        self.open()
        form = self.page.locator("form").filter(has=self.page.locator("input[name=username]"))
        form.locator("input[name=username]").fill(username)
        form.locator("input[name=password]").fill(password)
        form.locator("button[type=submit]").click()

    def login_to_list(self, username: str, password: str = PASSWORD) -> None:
        """Log in and wait for the study list, where a login lands."""
        self.login(username, password)
        self.page.locator("tr.study").first.wait_for()

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.name}-{name}.png"
        self.page.screenshot(path=path, full_page=True)
        return path

    def report(self) -> str:
        log = [line for line in self.site.server.log_text.splitlines() if " ERROR " in line]
        return (f"failed requests: {self.traffic.failed}\nbrowser errors: {self.traffic.errors}\n"
                f"server errors: {log[-10:]}\nscreenshots: {ARTIFACTS}")  # fmt: skip

    def assert_clean(self, allowed: re.Pattern[str] | None = None, launched: str = "") -> None:
        """No request failed (but ``allowed`` ones), no error in the console, nothing asked of
        another origin (but a desktop viewer ``launched`` by its scheme, e.g. "weasis://")."""
        failed = [f for f in self.traffic.failed if not (allowed and allowed.search(f))]
        assert not failed and not self.traffic.errors, self.report()
        here = (self.site.url + "/", f"blob:{self.site.url}/")  # blobs: made by the page itself
        here += (launched,) if launched else ()
        elsewhere = [url for url in self.traffic.urls if not url.startswith(here)]
        assert not elsewhere, f"requests off the server's origin: {elsewhere}"

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab_factory(browser: Any, site: Site, request: pytest.FixtureRequest) -> Iterator[Any]:
    tabs: list[Tab] = []

    def make(width: int = 1280) -> Tab:
        tab = Tab(browser, site, request.node.name.removeprefix("test_"), width)
        tabs.append(tab)
        return tab

    started = time.monotonic()
    yield make
    for tab in tabs:
        tab.close()
    assert time.monotonic() - started < 45, "a console test took longer than 45 s"
