"""Chinese (mislabelled included), Japanese and Korean names stored by DCMTK come back right
from QIDO-RS and WADO-RS metadata, as DICOM JSON name groups."""

from __future__ import annotations

from pathlib import Path

import requests

from tests.conftest import Server
from tests.integration.test_charsets import CASES, _write_cases

GROUPS = ("Alphabetic", "Ideographic", "Phonetic")


def _groups(text: str) -> dict[str, str]:
    return {name: part for name, part in zip(GROUPS, text.split("="), strict=False) if part}


def test_names_survive_to_dicomweb(make_server: object, tmp_path: Path) -> None:
    server: Server = make_server().start()  # type: ignore[operator]
    server.add_user("cjk", "cjk-password")
    folder = tmp_path / "cases"
    _write_cases(folder)
    server.store_folder(folder)
    auth = ("cjk", "cjk-password")
    for pid, (_, _, expected, _) in CASES.items():
        [study] = requests.get(
            f"{server.url}/dicomweb/studies", params={"PatientID": pid}, auth=auth, timeout=10
        ).json()
        assert study["00100010"]["Value"] == [_groups(expected)], pid
        uid = study["0020000D"]["Value"][0]
        [meta] = requests.get(
            f"{server.url}/dicomweb/studies/{uid}/metadata", auth=auth, timeout=10
        ).json()
        assert meta["00100010"]["Value"] == [_groups(expected)], pid
        assert meta["00080005"]["Value"] == ["ISO_IR 192"], pid
