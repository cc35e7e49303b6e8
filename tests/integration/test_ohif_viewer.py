"""OHIF shows a stored CT study, end to end: a real `pacs serve`, a CT series stored with DCMTK's
storescu, an account, and OHIF in headless Chromium (Debian's, `scripts/browser-deps`) logged in
with the session cookie. The study list at /ohif/ lists the study; the basic viewer at
/ohif/viewer?StudyInstanceUIDs=… asks our QIDO-RS and WADO-RS (series metadata, then every frame)
and draws the image. The viewport canvas is WebGL, which reads back blank through toDataURL, so
what the screen shows is taken from a screenshot of the canvas element and checked against the
phantom: air black, a soft-tissue disc whose grey rises from left to right, bone white in the
middle. Every request the page makes must be on the server's origin and succeed."""

from __future__ import annotations

import io
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from pydicom.uid import generate_uid

from tests.conftest import Server
from tests.dicomgen import make_ct, write
from tests.integration.test_ohif_static import CHROMIUM, browser_missing, needs_dist

if TYPE_CHECKING:
    from playwright.sync_api import Page

SIZE = 256  # rows and columns of each slice
SLICES = 10
BODY = 100  # radius of the soft-tissue disc, pixels
BONE = 20  # radius of the bone disc on the first slice; it grows by 2 pixels a slice
USER, PASSWORD = "reader", "a-reader-password"
PATIENT = "Phantom^Disc"
SHOWN_AS = "Phantom, Disc"  # how OHIF writes the name in its study list
TIMEOUT = 60.0  # seconds for the whole browser session, at most
# What OHIF remembers of its welcome tour (localStorage) and of its "investigational use" notice
# (sessionStorage) once a user has dismissed them: both cover parts of the viewport otherwise.
# Run in every document of the context: only OHIF's own, on the server's origin, has storage.
DISMISSED = """
if (location.protocol === "http:") {
  localStorage.setItem("shownTours", JSON.stringify(["basicViewerTour"]));
  sessionStorage.setItem("investigationalUseDialog", "hidden");
}
"""

# Of the server's log, what a failure report shows: warnings, errors, their tracebacks (lines
# without a time stamp), and the access log's lines of a request that failed.
NOTEWORTHY = re.compile(r"^(?!\d\d:\d\d:\d\d )| (?:WARNING|ERROR|CRITICAL) |\" [45]\d\d ")


def hounsfield(slice_index: int) -> np.ndarray:
    """One axial slice of the phantom in HU: air, a disc of soft tissue from -30 HU on its left
    edge to 110 HU on its right (so the viewer's window shows it as a grey ramp), a bone disc in
    the middle."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    centre = (SIZE - 1) / 2
    radius = np.hypot(xx - centre, yy - centre)
    image = np.full((SIZE, SIZE), -1000.0)
    body = radius < BODY
    image[body] = 40 + 0.7 * (xx[body] - centre)
    image[radius < BONE + 2 * slice_index] = 700
    return image


def write_phantom(folder: Path) -> tuple[str, list[str]]:
    """The CT series, as a scanner would describe it (geometry, rescale, window); its study UID
    and its SOP Instance UIDs."""
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    sops = []
    for i in range(SLICES):
        z = -2.5 * i
        ds = make_ct(
            study=study,
            series=series,
            number=i + 1,
            rows=SIZE,
            columns=SIZE,
            bits=16,
            patient_name=PATIENT,
            patient_id="PHANTOM1",
            SeriesDescription="Axial phantom",
            FrameOfReferenceUID=frame,
            PositionReferenceIndicator="",
            ImageType=["ORIGINAL", "PRIMARY", "AXIAL"],
            ImagePositionPatient=[-(SIZE - 1) / 2, -(SIZE - 1) / 2, z],
            ImageOrientationPatient=[1, 0, 0, 0, 1, 0],
            PixelSpacing=[1, 1],
            SliceThickness=2.5,
            SliceLocation=z,
            KVP=120,
            RescaleIntercept=-1024,
            RescaleSlope=1,
            RescaleType="HU",
            WindowCenter=40,
            WindowWidth=400,
        )
        stored = np.clip(np.rint(hounsfield(i)) + 1024, 0, 2**ds.BitsStored - 1)
        ds.PixelData = stored.astype("<u2").tobytes()
        write(ds, folder / f"ct{i:02d}.dcm")
        sops.append(ds.SOPInstanceUID)
    return study, sops


def looks_wrong(shot: bytes) -> list[str]:
    """What a screenshot of the viewport canvas lacks of the phantom (nothing: it is drawn).
    The image is fitted to the canvas, SIZE pixels to its shorter side, centred; the points looked
    at allow some 20 % either way of that scale, and keep clear of the viewport's text overlays."""
    from PIL import Image

    grey = np.asarray(Image.open(io.BytesIO(shot)).convert("L"), dtype=float)
    height, width = grey.shape
    cy, cx = height // 2, width // 2
    side = min(height, width)

    def at(dy: float, dx: float) -> float:  # mean of a 5x5 patch, offsets in fractions of side
        y, x = cy + round(dy * side), cx + round(dx * side)
        return float(grey[y - 2 : y + 3, x - 2 : x + 3].mean())

    wrong = []
    levels = len(np.unique(grey))
    if levels < 40:
        wrong.append(f"{levels} grey levels: not the ramp of the phantom")
    lit = float((grey > 24).mean())
    if lit < 0.15:
        wrong.append(f"{lit:.0%} of the canvas lit: blank")
    if (bone := at(0, 0)) < 230:
        wrong.append(f"centre {bone:.0f}, not bone white")
    left, right = at(0, -0.3), at(0, 0.3)
    if not (40 < left < right - 40 and right < 220):
        wrong.append(f"tissue left {left:.0f} and right {right:.0f}: not a grey ramp")
    air = [at(dy, dx) for dy in (-0.36, 0.36) for dx in (-0.36, 0.36)]
    if max(air) > 16:
        wrong.append(f"air at the diagonals {[round(a) for a in air]}, not black")
    return wrong


class Traffic:
    """Every request of the browser context, what failed, what is still under way."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.failed: list[str] = []
        self.pending: set[Any] = set()
        self.errors: list[str] = []
        self.frames: set[str] = set()  # SOP Instance UIDs whose frame came back 200

    def request(self, request: Any) -> None:
        self.urls.append(request.url)
        self.pending.add(request)

    def response(self, response: Any) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.status} {response.request.method} {response.url}")
        elif found := re.search(r"/instances/([0-9.]+)/frames/1$", response.url):
            self.frames.add(found.group(1))

    def finished(self, request: Any) -> None:
        self.pending.discard(request)

    def request_failed(self, request: Any) -> None:
        self.pending.discard(request)
        self.failed.append(f"{request.failure} {request.method} {request.url}")

    def console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def page_error(self, error: Any) -> None:
        self.errors.append(f"page error: {error}")


def wait_until(
    page: Page,
    deadline: float,
    what: str,
    check: Callable[[], list[str]],
    traffic: Traffic,
    report: Callable[[], str],
) -> None:
    """Poll ``check`` (what is still missing) until it is empty; fail at ``deadline``, or as
    soon as a request has failed: what it stands for may never come then."""
    missing = check()
    while missing:
        if time.monotonic() > deadline or traffic.failed:
            pytest.fail(f"{what}: {missing}\n{report()}")
        page.wait_for_timeout(250)  # lets Playwright deliver the page's events meanwhile
        missing = check()


@needs_dist
@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_ohif_shows_a_stored_ct_study(make_server: object, tmp_path: Path) -> None:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    server: Server = make_server().start()  # type: ignore[operator]
    server.add_user(USER, PASSWORD)
    study, sops = write_phantom(tmp_path / "ct")
    server.store_folder(tmp_path / "ct")
    base = server.url
    traffic = Traffic()
    shots = tmp_path / "shots"
    shots.mkdir()

    def report() -> str:
        lines = [line for line in server.log_text.splitlines() if NOTEWORTHY.search(line)]
        log = "\n".join(lines[-40:])
        return (
            f"failed requests: {traffic.failed}\nbrowser errors: {traffic.errors}\n"
            f"screenshots in {shots}\nserver log (end):\n{log}"
        )

    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            context.add_init_script(DISMISSED)
            context.on("request", traffic.request)
            context.on("response", traffic.response)
            context.on("requestfinished", traffic.finished)
            context.on("requestfailed", traffic.request_failed)
            context.on("console", traffic.console)
            context.on("weberror", lambda error: traffic.page_error(error.error))
            login = context.request.post(
                f"{base}/api/auth/login", data={"username": USER, "password": PASSWORD}
            )
            assert login.ok, (login.status, login.text())
            assert sorted(c["name"] for c in context.cookies(base)) == ["pacs_csrf", "pacs_session"]
            page = context.new_page()
            deadline = time.monotonic() + TIMEOUT

            def left() -> float:  # for Playwright: milliseconds to the deadline
                return max(deadline - time.monotonic(), 0.001) * 1000

            # the study list
            page.goto(f"{base}/ohif/", timeout=left())
            row = page.locator("tr", has_text=SHOWN_AS)
            row.wait_for(timeout=left())
            assert "Chest" in row.inner_text() and "CT" in row.inner_text()

            # the viewer: every frame of the series fetched, the image drawn
            page.goto(f"{base}/ohif/viewer?StudyInstanceUIDs={study}", timeout=left())
            canvas = page.locator(".viewport-element canvas.cornerstone-canvas").first
            canvas.wait_for(state="visible", timeout=left())
            wait_until(
                page,
                deadline,
                "frames not fetched",
                lambda: sorted(set(sops) - traffic.frames),
                traffic,
                report,
            )
            shot = b""

            def drawn() -> list[str]:
                nonlocal shot
                shot = canvas.screenshot(timeout=left())
                return looks_wrong(shot)

            try:
                wait_until(
                    page, deadline, "the viewport does not show the phantom", drawn, traffic, report
                )
            finally:
                if shot:
                    (shots / "viewport.png").write_bytes(shot)
                page.screenshot(path=shots / "page.png")
            # the stack holds every slice: the overlay says "I:1 (1/10)"
            page.get_by_text(re.compile(rf"\(1/{SLICES}\)")).first.wait_for(timeout=left())
            wait_until(
                page,
                deadline,
                "requests still under way",
                lambda: [r.url for r in traffic.pending],
                traffic,
                report,
            )
        except PlaywrightError as exc:  # a wait that timed out, mostly
            pytest.fail(f"{exc}\n{report()}")
        finally:
            browser.close()

    assert not traffic.failed, report()
    assert not traffic.errors, report()
    elsewhere = [url for url in traffic.urls if not url.startswith(f"{base}/")]
    assert not elsewhere, f"requests off the server's origin: {elsewhere}"
    asked = [url[len(base) :] for url in traffic.urls]
    assert any(path.startswith("/dicomweb/studies?") for path in asked), asked
    assert any(
        path.startswith(f"/dicomweb/studies/{study}/series/") and path.endswith("/metadata")
        for path in asked
    ), asked
    frames = [path for path in asked if "/frames/" in path]
    assert len(frames) >= SLICES, frames
