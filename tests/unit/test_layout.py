"""pacs.storage.layout (templates → relative paths) and pacs.model.uids (what may enter a path)."""

from __future__ import annotations

import datetime as dt

import pytest

from pacs.model.uids import hashed, is_valid_uid, path_token, path_token_for_uid
from pacs.settings import DEFAULT_LAYOUT
from pacs.storage.layout import LayoutError, compile_layout

STUDY, SERIES, SOP = "1.2.840.1", "1.2.840.1.2", "1.2.840.1.2.3"


def _values(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "StudyDate": dt.date(2024, 3, 5),
        "StudyInstanceUID": STUDY,
        "SeriesInstanceUID": SERIES,
        "SOPInstanceUID": SOP,
        "PatientID": "PAT001",
        "Modality": "CT",
    }
    values.update(overrides)
    return values


def test_default_layout_renders_date_study_series_sop() -> None:
    layout = compile_layout(DEFAULT_LAYOUT)
    assert layout.template == DEFAULT_LAYOUT
    assert layout.render(_values()) == f"2024/03/05/{STUDY}/{SERIES}/{SOP}.dcm"  # type: ignore[arg-type]


def test_missing_date_renders_zeros() -> None:
    layout = compile_layout(DEFAULT_LAYOUT)
    assert layout.render(_values(StudyDate=None)) == f"0000/00/00/{STUDY}/{SERIES}/{SOP}.dcm"  # type: ignore[arg-type]
    plain = compile_layout("{StudyDate}/{StudyDate:%y%j}/{SOPInstanceUID}")
    assert plain.render({"SOPInstanceUID": SOP}) == f"00000000/00000/{SOP}"
    assert plain.render({"StudyDate": dt.date(2024, 2, 1), "SOPInstanceUID": SOP}) == (
        f"20240201/24032/{SOP}"
    )


@pytest.mark.parametrize(
    "bad",
    ["../../etc/passwd", "1.2/../3", "..", "1.2.3\x00", "1.2.3\n", "a/b", "1.2.3 ", "", "/abs"],
)
def test_unsafe_uids_become_hashes(bad: str) -> None:
    layout = compile_layout(DEFAULT_LAYOUT)
    path = layout.render(_values(StudyInstanceUID=bad, SOPInstanceUID=bad))  # type: ignore[arg-type]
    parts = path.split("/")
    assert len(parts) == 6, path
    assert ".." not in parts
    expected = hashed(bad) if bad else "unknown"
    assert parts[3] == expected
    assert parts[5] == f"{expected}.dcm"
    assert parts[4] == SERIES


def test_token_fields_are_kept_only_when_safe() -> None:
    layout = compile_layout("{PatientID}/{Modality}/{SOPInstanceUID}.dcm")
    assert layout.render(_values()) == f"PAT001/CT/{SOP}.dcm"  # type: ignore[arg-type]
    evil = layout.render(_values(PatientID="../root", Modality=".."))  # type: ignore[arg-type]
    assert evil == f"{hashed('../root')}/{hashed('..')}/{SOP}.dcm"
    assert layout.render({"SOPInstanceUID": SOP}) == f"unknown/unknown/{SOP}.dcm"


def test_hashes_are_stable_and_distinct() -> None:
    assert hashed("../a") == hashed("../a")
    assert hashed("../a") != hashed("../b")
    assert hashed("x").startswith("h")
    assert len(hashed("x")) == 33
    assert hashed("\udcff") == hashed("\udcff")  # surrogate-escaped bytes still hash


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{Foo}/{SOPInstanceUID}.dcm", "layout field {Foo} is not one of"),
        ("{PatientName}/{SOPInstanceUID}.dcm", "layout field {PatientName}"),
        ("{SOPInstanceUID!r}.dcm", "is not one of"),
        ("../{SOPInstanceUID}.dcm", "relative path without"),
        ("a/../{SOPInstanceUID}.dcm", "relative path without"),
        ("a/./{SOPInstanceUID}.dcm", "relative path without"),
        ("a//{SOPInstanceUID}.dcm", "relative path without"),
        ("{StudyInstanceUID}/{SOPInstanceUID}/", "relative path without"),
        ("/srv/{SOPInstanceUID}.dcm", "relative path without"),
        ("{StudyInstanceUID}/{SeriesInstanceUID}.dcm", "must contain {SOPInstanceUID}"),
        ("{StudyDate:%H}/{SOPInstanceUID}", "layout format StudyDate:%H is not allowed"),
        ("{StudyDate:%Y/..}/{SOPInstanceUID}", "is not allowed"),
        ("{StudyInstanceUID:>70}/{SOPInstanceUID}", "is not allowed"),
        ("a b/{SOPInstanceUID}", "may only hold letters"),
        ("a\\b/{SOPInstanceUID}", "may only hold letters"),
        ("{SOPInstanceUID", "not a valid template"),
    ],
)
def test_template_errors(template: str, message: str) -> None:
    with pytest.raises(LayoutError) as info:
        compile_layout(template)
    assert message in str(info.value)


def test_valid_templates_compile() -> None:
    for template in (
        "{SOPInstanceUID}",
        "{StudyDate:%Y-%m}/{Modality}/{SOPInstanceUID}.dcm",
        "archive_1/{PatientID}/{StudyInstanceUID}/{SOPInstanceUID}.dcm",
    ):
        assert compile_layout(template).template == template


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("1" * 64, True),
        ("1." + "2" * 62, True),
        ("1" * 65, False),
        ("1." + "2" * 63, False),
        ("", False),
        (None, False),
        ("1.2.3", True),
        ("0", True),
        ("1.2.", False),
        (".1.2", False),
        ("1..2", False),
        ("1.2a", False),
        ("abc", False),
        ("1.2.3 ", False),
        (" 1.2.3", False),
        ("1.2.3\x00", False),
        ("1.2.3\n", False),
        ("1/2", False),
        ("\u0661.\u0662", False),  # Arabic-Indic digits are not DICOM digits
    ],
)
def test_is_valid_uid(value: str | None, valid: bool) -> None:
    assert is_valid_uid(value) is valid


def test_path_token_keeps_safe_values() -> None:
    assert path_token_for_uid("1.2.3") == "1.2.3"
    assert path_token("PAT-001_a") == "PAT-001_a"
    assert path_token("A" * 64) == "A" * 64


@pytest.mark.parametrize("unsafe", ["A" * 65, "-x", ".hidden", "a b", "a/b", "..", "PAT\n", "名前"])
def test_path_token_hashes_unsafe_values(unsafe: str) -> None:
    assert path_token(unsafe) == hashed(unsafe)
