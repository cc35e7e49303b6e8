"""The pure parts of monitoring: quantiles from histogram buckets, DICOMweb kinds of routes,
services of loggers, log file names and entries read backwards with filters."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from pacs.logs import files, services
from pacs.monitoring.collect import difference, quantile
from pacs.monitoring.http import kind_of

INF = math.inf


def test_quantile_interpolates_within_the_bucket() -> None:
    buckets = ((0.01, 0.0), (0.1, 10.0), (1.0, 20.0), (INF, 20.0))
    assert quantile(buckets, 0.5) == pytest.approx(0.1)
    assert quantile(buckets, 0.25) == pytest.approx(0.055)
    assert quantile(buckets, 0.75) == pytest.approx(0.55)
    assert quantile(((1.0, 0.0), (INF, 0.0)), 0.5) is None
    assert quantile((), 0.5) is None
    assert quantile(((1.0, 1.0), (INF, 4.0)), 0.95) == 1.0  # beyond the last bound


def test_difference_is_the_window() -> None:
    then = ((0.1, 2.0), (INF, 3.0))
    now = ((0.1, 2.0), (INF, 7.0))
    assert difference(now, then) == ((0.1, 0.0), (INF, 4.0))
    assert difference(now, ()) == now


@pytest.mark.parametrize(
    ("method", "route", "kind"),
    [
        ("GET", "/dicomweb/studies", "qido"),
        ("GET", "/dicomweb/studies/<study>/series", "qido"),
        ("GET", "/dicomweb/studies/<study>/series/<series>/instances", "qido"),
        ("GET", "/dicomweb/studies/<study>", "wado"),
        ("GET", "/dicomweb/studies/<study>/series/<series>/metadata", "wado"),
        ("POST", "/dicomweb/studies", "stow"),
        ("GET", "/wado", "wado_uri"),
        ("GET", "/api/studies", None),
        ("GET", "unmatched", None),
    ],
)
def test_dicomweb_kinds(method: str, route: str, kind: str | None) -> None:
    assert kind_of(method, route) == kind


def test_services_of_loggers() -> None:
    assert services.service_of("pacs.dicom.store") == "storage"
    assert services.service_of("pacs.dicom.pool") == "dicom"
    assert services.service_of("pacs.dicom.find") == "query-retrieve"
    assert services.service_of("pacs.http.access") == "http"
    assert services.service_of("pynetdicom.dul") == "pynetdicom"
    assert services.service_of("sqlalchemy") == "other"
    assert services.level_name(" warning ") == "WARNING"
    with pytest.raises(ValueError, match="unknown level"):
        services.level_name("LOUD")


@pytest.mark.parametrize(
    "name", ["..", "../pacs.jsonl", "a/b.jsonl", ".run", "pacs.toml", "x.jsonl.a", "", "..jsonl"]
)
def test_bad_names(name: str) -> None:
    with pytest.raises(files.BadName):
        files.check_name(name)


def test_entries_backwards_with_filters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "BLOCK", 64)  # many blocks: lines cut at block boundaries
    levels = ["DEBUG", "INFO", "WARNING", "ERROR"]
    lines = [
        json.dumps({"level": levels[n % 4], "logger": "pacs.x", "msg": f'line {n} é "q"'})
        for n in range(40)
    ]
    path = tmp_path / "pacs.jsonl"
    path.write_text("\n".join([*lines, "not json"]) + "\n", encoding="utf-8")
    every = files.entries(path, tail=1000)
    assert [e["msg"] for e in every[:2]] == ['line 0 é "q"', 'line 1 é "q"']
    assert every[-1] == {"msg": "not json"}
    assert len(every) == 41
    errors = files.entries(path, tail=3, level="ERROR")
    assert [e["msg"].split()[1] for e in errors] == ["31", "35", "39"]
    warned = files.entries(path, tail=100, level="WARNING")
    assert len(warned) == 20
    assert [e["msg"] for e in files.entries(path, tail=5, text="LINE 17")] == ['line 17 é "q"']
    assert len(files.entries(path, tail=5, text='é "q"')) == 5
    assert files.entries(path, tail=5, text="absent") == []


def test_listing_and_delete(tmp_path: Path) -> None:
    (tmp_path / "pacs.jsonl").write_text("{}\n")
    (tmp_path / "pacs.jsonl.2").write_text("{}\n{}\n")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / ".run").mkdir()
    listed = {f.name: f.active for f in files.listing(tmp_path, workers=1)}
    assert listed == {"pacs.jsonl": False, "pacs.jsonl.2": False}
    (tmp_path / "pacs-worker1.jsonl").write_text("{}\n")
    assert {f.name: f.active for f in files.listing(tmp_path, workers=1)}["pacs-worker1.jsonl"]
    with pytest.raises(files.Busy):
        files.delete(tmp_path, "pacs-worker1.jsonl", workers=1)
    assert files.delete(tmp_path, "pacs-worker1.jsonl", workers=0) == 3
    assert files.delete(tmp_path, "pacs.jsonl.2", workers=0) == 6
    with pytest.raises(files.Missing):
        files.locate(tmp_path, "pacs.jsonl.2")
