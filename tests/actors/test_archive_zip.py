"""The streamed ZIP of a download: entries equal the files, small files whole and large ones a
piece at a time, readable by zipfile (and so by any unzip)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
import trio

from pacs.api import archive
from pacs.index.retrieval import Located


def _item(path: Path, sop: str) -> Located:
    return Located(study_uid="1.2", series_uid="1.2.3", sop_uid=sop, sop_class_uid="1.2.840",
                   transfer_syntax="1.2.840.10008.1.2.1", path=path, frames=None)  # fmt: skip


async def test_zip_stream_pieces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "PIECE", 1000)
    small, large = tmp_path / "a.dcm", tmp_path / "b.dcm"
    small.write_bytes(b"s" * 900)
    large.write_bytes(bytes(range(256)) * 20)  # 5120 bytes: six pieces
    chunks = [
        chunk
        async for chunk in archive.zip_stream(
            [_item(small, "1.2.3.4"), _item(large, "1.2.3.5")], trio.CapacityLimiter(1)
        )
    ]
    assert len(chunks) >= 7  # one for the small file, one per piece, the central directory
    with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as done:
        assert done.testzip() is None
        assert done.namelist() == ["1.2/1.2.3/1.2.3.4.dcm", "1.2/1.2.3/1.2.3.5.dcm"]
        assert done.read("1.2/1.2.3/1.2.3.4.dcm") == small.read_bytes()
        assert done.read("1.2/1.2.3/1.2.3.5.dcm") == large.read_bytes()
