"""``pacs render`` on a file and on a folder: the images read back with the expected values and
sizes; bad input and bad options end with one clear line and a non-zero status."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests import dicomgen

pytestmark = [pytest.mark.filterwarnings("error::DeprecationWarning")]


def pacs(*args: str | Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pacs", "render", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def read(path: Path) -> Image.Image:
    image = Image.open(io.BytesIO(path.read_bytes()))
    image.load()
    return image


def ramp_ct(path: Path, frames: int = 1) -> Path:
    """16-bit frames 0..200 along a row; frame i is shifted by 100 * i."""
    ds = dicomgen.make_ct(rows=4, columns=201)
    ramp = np.tile(np.arange(201, dtype=np.uint16), (4, 1))
    stack = np.stack([ramp + 100 * i for i in range(frames)])
    ds.BitsStored, ds.HighBit = 16, 15
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.PixelData = stack.tobytes()
    return dicomgen.write(ds, path)


def one_line(text: str) -> bool:
    return text.strip() != "" and "\n" not in text.strip() and "Traceback" not in text


def test_a_file_to_png_with_a_window(tmp_path: Path) -> None:
    src = ramp_ct(tmp_path / "ct.dcm")
    out = tmp_path / "ct.png"
    result = pacs(src, out, "--window", "100,200,linear-exact")
    assert result.returncode == 0, result.stderr
    image = read(out)
    assert (image.format, image.mode, image.size) == ("PNG", "L", (201, 4))
    row = np.asarray(image)[0]
    assert [row[x] for x in (0, 50, 100, 150, 200)] == [0, 64, 128, 191, 255]


def test_a_frame_of_a_multiframe_file(tmp_path: Path) -> None:
    src = ramp_ct(tmp_path / "mf.dcm", frames=3)
    out = tmp_path / "mf.png"
    result = pacs(src, out, "--frame", "2", "--window", "100,200,LINEAR_EXACT")
    assert result.returncode == 0, result.stderr
    assert [np.asarray(read(out))[0, x] for x in (0, 50, 100)] == [128, 191, 255]
    missing = pacs(src, out, "--frame", "5")
    assert missing.returncode == 1
    assert "frame 5 does not exist" in missing.stderr
    assert one_line(missing.stderr)


def test_a_file_to_a_thumbnail_jpeg(tmp_path: Path) -> None:
    src = dicomgen.write(dicomgen.make_ct(rows=60, columns=120), tmp_path / "ct.dcm")
    out = tmp_path / "thumbs" / "ct.jpeg"
    result = pacs(src, out, "--size", "30", "--quality", "75")
    assert result.returncode == 0, result.stderr
    image = read(out)
    assert (image.format, image.mode, image.size) == ("JPEG", "L", (30, 15))


def test_a_folder_is_mirrored_and_failures_do_not_stop_it(tmp_path: Path) -> None:
    src = tmp_path / "in"
    dicomgen.write(dicomgen.make_ct(rows=20, columns=10), src / "a" / "ct.dcm")
    dicomgen.write(dicomgen.make_ct(rows=8, columns=8), src / "a" / "b" / "1.2.826.0.1.7")
    dicomgen.write(dicomgen.make_ct(rows=8, columns=8), src / "a" / "b" / "1.2.826.0.1.8")
    (src / "notes.txt").write_text("not an image")
    broken = dicomgen.make_ct(rows=16, columns=16)
    broken.PixelData = broken.PixelData[:64]
    dicomgen.write(broken, src / "broken.dcm")
    out = tmp_path / "out"
    result = pacs(src, out, "--format", "png")
    assert result.returncode == 1, result.stderr
    assert "notes.txt" in result.stderr
    assert "not a DICOM file" in result.stderr
    assert "broken.dcm" in result.stderr
    assert read(out / "a" / "ct.png").size == (10, 20)
    for name in ("1.2.826.0.1.7.png", "1.2.826.0.1.8.png"):  # UID names keep their last part
        assert read(out / "a" / "b" / name).size == (8, 8)
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == [
        "1.2.826.0.1.7.png",
        "1.2.826.0.1.8.png",
        "ct.png",
    ]


def test_a_clean_folder_exits_zero_in_jpeg(tmp_path: Path) -> None:
    src = tmp_path / "in"
    dicomgen.write_study(src, series=1, per_series=2)
    out = tmp_path / "out"
    result = pacs(src, out)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["s0_0.jpg", "s0_1.jpg"]
    assert read(out / "s0_0.jpg").format == "JPEG"


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["--window", "40"], 2, "center,width"),
        (["--window", "40,0"], 2, "window width"),
        (["--quality", "0"], 2, "quality"),
        (["--frame", "0"], 2, "frame"),
        (["--size", "0"], 2, "rows"),
    ],
)
def test_bad_options(tmp_path: Path, args: list[str], status: int, message: str) -> None:
    src = dicomgen.write(dicomgen.make_ct(), tmp_path / "ct.dcm")
    result = pacs(src, tmp_path / "ct.png", *args)
    assert result.returncode == status
    assert message in result.stderr
    assert one_line(result.stderr)
    assert not (tmp_path / "ct.png").exists()


def test_unsupported_input_is_one_clear_line(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    ct = dicomgen.write(dicomgen.make_ct(), tmp_path / "ct.dcm")
    no_pixels = dicomgen.make_ct()
    del no_pixels.PixelData
    sr = dicomgen.write(no_pixels, tmp_path / "sr.dcm")
    cases = [
        (text, tmp_path / "a.png", "not a DICOM file"),
        (ct, tmp_path / "a.gif", ".jpg, .jpeg or .png"),
        (tmp_path / "missing.dcm", tmp_path / "a.png", "no such file"),
        (sr, tmp_path / "a.png", "no pixel data"),
    ]
    for src, out, message in cases:
        result = pacs(src, out)
        assert result.returncode != 0, (src, out)
        assert message in result.stderr, result.stderr
        assert one_line(result.stderr), result.stderr
        assert not out.exists()


def test_the_module_stays_light_to_import() -> None:
    code = (
        "import sys, pacs.tools.render\n"
        "heavy = {'numpy', 'pydicom', 'PIL', 'tqdm', 'pacs.imaging'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
