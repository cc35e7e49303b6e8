"""``pacs transcode`` on a file and on a folder, checked by reading the outputs back and by
DCMTK's dcmdump; clear failures for unwritable syntaxes, impossible conversions and junk."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest

from pacs.imaging import syntaxes as ts
from tests import dicomgen
from tests.imagegen import FORMATS, make_image


def pacs(*args: str | Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pacs", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_a_file_becomes_jpeg_ls_and_back(tmp_path: Path) -> None:
    src = dicomgen.write(dicomgen.make_ct(rows=40, columns=30), tmp_path / "ct.dcm")
    mid, back = tmp_path / "ct-jls.dcm", tmp_path / "ct-back.dcm"
    assert pacs("transcode", src, mid, "--syntax", ts.JPEG_LS_LOSSLESS).returncode == 0
    assert pacs("transcode", mid, back, "--syntax", ts.IMPLICIT_LE).returncode == 0
    assert pydicom.dcmread(mid).file_meta.TransferSyntaxUID == ts.JPEG_LS_LOSSLESS
    assert np.array_equal(pydicom.dcmread(back).pixel_array, pydicom.dcmread(src).pixel_array)
    if shutil.which("dcmdump"):
        dump = subprocess.run(["dcmdump", "-M", str(mid)], capture_output=True, text=True)
        assert dump.returncode == 0, dump.stderr
        assert "JPEGLSLossless" in dump.stdout


def test_a_folder_is_mirrored_with_failures_reported(tmp_path: Path) -> None:
    src = tmp_path / "in"
    (src / "a" / "b").mkdir(parents=True)
    dicomgen.write(make_image(FORMATS[0]), src / "a" / "u8.dcm")
    dicomgen.write(make_image(FORMATS[3]), src / "a" / "b" / "u16.dcm")
    (src / "notes.txt").write_text("not an image")
    out = tmp_path / "out"
    result = pacs("transcode", src, out, "--syntax", ts.JPEG_BASELINE)
    assert result.returncode == 1  # the 16-bit file cannot be baseline JPEG
    assert "at most 8 bits" in result.stderr
    assert "skipped" in result.stderr and "notes.txt" in result.stderr
    assert pydicom.dcmread(out / "a" / "u8.dcm").file_meta.TransferSyntaxUID == ts.JPEG_BASELINE
    assert not (out / "a" / "b" / "u16.dcm").exists()
    assert not (out / "notes.txt").exists()


@pytest.mark.parametrize(
    ("syntax", "message"),
    [
        ("1.2.3", "unknown transfer syntax"),
        (ts.HTJ2K_LOSSLESS_RPCL, "cannot be written here"),
    ],
)
def test_unwritable_syntaxes_list_the_writable_ones(
    tmp_path: Path, syntax: str, message: str
) -> None:
    src = dicomgen.write(dicomgen.make_ct(), tmp_path / "ct.dcm")
    result = pacs("transcode", src, tmp_path / "o.dcm", "--syntax", syntax)
    assert result.returncode == 2
    assert message in result.stderr
    assert ts.RLE in result.stderr


def test_junk_input_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"\0" * 128 + b"DICM" + b"\xff" * 20)
    result = pacs("transcode", junk, tmp_path / "o.dcm", "--syntax", ts.RLE)
    assert result.returncode == 2
    assert "junk.dcm" in result.stderr
    assert "Traceback" not in result.stderr
