"""The trash of an interrupted delete: what the index still lists comes back, the rest goes, and
the startup sweep never sees it."""

from __future__ import annotations

from pathlib import Path

from pacs.storage import trash
from pacs.storage.area import TRASH, StorageArea


def _area(tmp_path: Path) -> StorageArea:
    area = StorageArea(tmp_path / "storage", fsync=False)
    area.prepare()
    return area


def test_move_restore_and_purge(tmp_path: Path) -> None:
    area = _area(tmp_path)
    for rel in ("2024/a/1.dcm", "2024/a/2.dcm"):
        (area.root / rel).parent.mkdir(parents=True, exist_ok=True)
        (area.root / rel).write_bytes(rel.encode())
    assert trash.to_trash(area, ["2024/a/1.dcm", "2024/a/2.dcm", "missing.dcm"]) == 2
    assert sorted(area.walk()) == []
    assert (area.root / TRASH / "2024/a/1.dcm").read_bytes() == b"2024/a/1.dcm"
    assert trash.restore(area, ["2024/a/2.dcm"]) == 1
    assert sorted(area.walk()) == ["2024/a/2.dcm"]
    assert trash.purge(area, ["2024/a/1.dcm", "2024/a/2.dcm"]) == 2
    assert sorted(area.walk()) == []
    assert not (area.root / TRASH / "2024/a/1.dcm").exists()


def test_recover_after_a_crash(tmp_path: Path) -> None:
    area = _area(tmp_path)
    for rel in ("s/committed.dcm", "s/not-committed.dcm"):
        path = area.root / TRASH / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    asked: list[list[str]] = []

    def known(rels: list[str]) -> set[str]:
        asked.append(sorted(rels))
        return {"s/not-committed.dcm"}  # the index still lists it: its delete never committed

    assert trash.recover(area, known) == (1, 1)
    assert asked == [["s/committed.dcm", "s/not-committed.dcm"]]
    assert sorted(area.walk()) == ["s/not-committed.dcm"]
    assert not any(p.is_file() for p in (area.root / TRASH).rglob("*"))
    assert trash.recover(area, known) == (0, 0)
