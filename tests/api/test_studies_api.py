"""The REST API's studies: search, details, delete through the actors (audited), and the OpenAPI
document, every path of which refuses a caller without credentials."""

from __future__ import annotations

import io
import re
import sqlite3
import zipfile
from pathlib import Path

import pytest
import requests
from pydicom.uid import generate_uid

from pacs.http.auth import is_open
from tests.conftest import Server, dcmtk, require_dcmtk
from tests.dicomgen import make_ct, write

OPERATOR, VIEWER, PASSWORD = ("op", "viewer", "api-password")


@pytest.fixture
def loaded(make_server: object, tmp_path: Path) -> tuple[Server, dict[str, str]]:
    require_dcmtk()
    server: Server = make_server().start()  # type: ignore[operator]
    server.add_user(OPERATOR, PASSWORD, role="operator")
    server.add_user(VIEWER, PASSWORD)
    folder = tmp_path / "in"
    uids = {
        "ct": generate_uid(),
        "mr": generate_uid(),
        "ct_a": generate_uid(),
        "ct_b": generate_uid(),
    }
    for n, series in enumerate((uids["ct_a"], uids["ct_b"])):
        for i in range(2):
            write(make_ct(study=uids["ct"], series=series, number=i + 1, SeriesNumber=n + 1,
                          patient_id="P-CT", patient_name="Doe^John", study_date="20240305"),
                  folder / f"ct{n}{i}.dcm")  # fmt: skip
    write(make_ct(study=uids["mr"], patient_id="P-ZH", patient_name="Zhang^San=张^三",
                  study_date="20230101", modality="MR", SpecificCharacterSet="ISO_IR 192"),
          folder / "mr.dcm")  # fmt: skip
    server.store_folder(folder)
    return server, uids


def _get(server: Server, path: str, user: str = VIEWER, **params: object) -> requests.Response:
    return requests.get(f"{server.url}{path}", params=params, auth=(user, PASSWORD), timeout=10)


def test_search_and_details(loaded: tuple[Server, dict[str, str]]) -> None:
    server, uids = loaded
    page = _get(server, "/api/studies").json()
    assert page["total"] == 2
    assert [s["study_uid"] for s in page["items"]] == [uids["ct"], uids["mr"]]  # newest first
    by_name = _get(server, "/api/studies", sort="patient_name").json()["items"]
    assert [s["patient_id"] for s in by_name] == ["P-CT", "P-ZH"]
    fuzzy = _get(server, "/api/studies", patient_name="san").json()
    assert fuzzy["total"] == 1 and fuzzy["items"][0]["patient_name"] == "Zhang^San=张^三"
    assert _get(server, "/api/studies", study_date="20240101-").json()["total"] == 1
    assert _get(server, "/api/studies", modality="MR").json()["items"][0]["modalities"] == ["MR"]
    second = _get(server, "/api/studies", limit=1, offset=1).json()
    assert second["total"] == 2 and len(second["items"]) == 1
    detail = _get(server, f"/api/studies/{uids['ct']}").json()
    assert detail["instances"] == 4 and detail["series"] == 2
    assert [s["series_uid"] for s in detail["series_list"]] == [uids["ct_a"], uids["ct_b"]]


def test_bad_input_is_400_with_a_message(loaded: tuple[Server, dict[str, str]]) -> None:
    server, _ = loaded
    cases = {"limit": "0", "sort": "size", "offset": "-1", "study_date": "2024-99"}
    for name, value in cases.items():
        response = _get(server, "/api/studies", **{name: value})
        assert response.status_code == 400, name
        assert response.headers["Content-Type"] == "application/problem+json"
        assert name in response.json()["detail"] or "StudyDate" in response.json()["detail"]
    assert _get(server, "/api/studies/1.2.x").status_code == 400
    assert _get(server, "/api/studies/1.2.3").status_code == 404


def test_delete_series_then_study(loaded: tuple[Server, dict[str, str]]) -> None:
    server, uids = loaded
    before = set(server.files())
    assert len(before) == 5
    refused = requests.delete(f"{server.url}/api/series/{uids['ct_a']}",
                              auth=(VIEWER, PASSWORD), timeout=10)  # fmt: skip
    assert refused.status_code == 403
    done = requests.delete(f"{server.url}/api/series/{uids['ct_a']}",
                           auth=(OPERATOR, PASSWORD), timeout=30)  # fmt: skip
    assert done.status_code == 200, done.text
    assert done.json() == {"level": "series", "uid": uids["ct_a"], "instances": 2}
    assert len(server.files()) == 3
    assert not (server.storage / ".trash").exists() or not any(
        (server.storage / ".trash").rglob("*.dcm")
    )
    detail = _get(server, f"/api/studies/{uids['ct']}").json()
    assert detail["series"] == 1 and detail["instances"] == 2
    found = dcmtk("findscu", "-S", "-aec", "PACS", "-k", "QueryRetrieveLevel=SERIES",
                  "-k", f"StudyInstanceUID={uids['ct']}", "-k", "SeriesInstanceUID",
                  "127.0.0.1", str(server.dicom_port))  # fmt: skip
    assert uids["ct_b"] in found.stdout + found.stderr
    assert uids["ct_a"] not in found.stdout + found.stderr
    gone = requests.delete(f"{server.url}/api/studies/{uids['ct']}",
                           auth=(OPERATOR, PASSWORD), timeout=30)  # fmt: skip
    assert gone.json()["instances"] == 2
    assert _get(server, f"/api/studies/{uids['ct']}").status_code == 404
    assert len(server.files()) == 1
    again = requests.delete(f"{server.url}/api/studies/{uids['ct']}",
                            auth=(OPERATOR, PASSWORD), timeout=10)  # fmt: skip
    assert again.status_code == 404
    with sqlite3.connect(server.home / "index.db") as db:
        actions = db.execute("SELECT username, action, target FROM audit ORDER BY id").fetchall()
    assert (OPERATOR, "delete_series", uids["ct_a"]) in actions
    assert (OPERATOR, "delete_study", uids["ct"]) in actions


def test_every_documented_path_needs_credentials(loaded: tuple[Server, dict[str, str]]) -> None:
    server, _ = loaded
    document = _get(server, "/api/openapi.json").json()
    assert document["openapi"].startswith("3.")
    checked = 0
    for path, operations in document["paths"].items():
        for method in operations:
            if method.upper() not in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
                continue
            if is_open(path, method.upper()):  # login, health, static assets
                continue
            url = server.url + re.sub(r"\{[^}]+\}", "1.2.3", path)
            response = requests.request(method.upper(), url, timeout=10)
            assert response.status_code == 401, (method, path, response.status_code)
            checked += 1
    assert checked >= 5
    for path in ("/dicomweb/studies", "/wado", "/docs", "/api/openapi.json"):
        assert requests.get(server.url + path, timeout=10).status_code == 401, path


def test_swagger_ui_is_served_locally(loaded: tuple[Server, dict[str, str]]) -> None:
    server, _ = loaded
    page = _get(server, "/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()
    assert "/static/swagger-ui/swagger-ui-bundle.js" in page.text
    bundle = requests.get(f"{server.url}/static/swagger-ui/swagger-ui-bundle.js", timeout=10)
    assert bundle.status_code == 200 and len(bundle.content) > 100_000


def test_zip_downloads(loaded: tuple[Server, dict[str, str]], tmp_path: Path) -> None:
    server, uids = loaded
    response = _get(server, f"/api/studies/{uids['ct']}/archive")
    assert response.headers["Content-Type"] == "application/zip"
    assert f'filename="{uids["ct"]}.zip"' in response.headers["Content-Disposition"]
    stored = {p.name: p.read_bytes() for p in server.files()}
    with zipfile.ZipFile(io.BytesIO(response.content)) as study:
        names = study.namelist()
        assert len(names) == 4
        assert all(n.startswith(f"{uids['ct']}/") for n in names)
        for name in names:
            assert study.read(name) == stored[Path(name).name]
    series = _get(server, f"/api/series/{uids['ct_b']}/archive")
    with zipfile.ZipFile(io.BytesIO(series.content)) as one:
        assert {Path(n).parent.name for n in one.namelist()} == {uids["ct_b"]}
    assert _get(server, "/api/series/1.2.3/archive").status_code == 404
    assert (
        requests.get(f"{server.url}/api/studies/{uids['ct']}/archive", timeout=10).status_code
        == 401
    )


def test_upload_a_file_and_a_zip(loaded: tuple[Server, dict[str, str]], tmp_path: Path) -> None:
    server, _ = loaded
    one = write(make_ct(patient_id="UP1"), tmp_path / "one.dcm")
    response = requests.post(f"{server.url}/api/upload", data=one.read_bytes(),
                             headers={"Content-Type": "application/dicom"},
                             auth=(OPERATOR, PASSWORD), timeout=30)  # fmt: skip
    assert response.json() == {"stored": 1, "duplicates": 0, "failed": [], "skipped": []}
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as zipped:
        study = generate_uid()
        for n in range(3):
            ds = make_ct(patient_id="UP2", study=study, number=n + 1)
            zipped.writestr(f"study/{n}.dcm", (write(ds, tmp_path / f"{n}.dcm")).read_bytes())
        zipped.writestr("readme.txt", b"not DICOM")
        zipped.writestr("one-again.dcm", one.read_bytes())
    response = requests.post(f"{server.url}/api/upload?name=cd.zip", data=bundle.getvalue(),
                             headers={"Content-Type": "application/zip"},
                             auth=(OPERATOR, PASSWORD), timeout=30)  # fmt: skip
    result = response.json()
    assert (result["stored"], result["duplicates"]) == (3, 1)
    assert result["skipped"] == [{"name": "cd.zip!readme.txt", "reason": "no DICM preamble"}]
    assert _get(server, "/api/studies", patient_id="UP2").json()["items"][0]["instances"] == 3
    viewer = requests.post(f"{server.url}/api/upload", data=one.read_bytes(),
                           headers={"Content-Type": "application/dicom"},
                           auth=(VIEWER, PASSWORD), timeout=10)  # fmt: skip
    assert viewer.status_code == 403
    wrong = requests.post(f"{server.url}/api/upload", data=b"x",
                          headers={"Content-Type": "text/plain"},
                          auth=(OPERATOR, PASSWORD), timeout=10)  # fmt: skip
    assert wrong.status_code == 415
    assert not list((server.storage / ".spool").iterdir())


def test_stats(loaded: tuple[Server, dict[str, str]]) -> None:
    server, _ = loaded
    stats = _get(server, "/api/stats").json()
    assert (stats["patients"], stats["studies"], stats["series"], stats["instances"]) == (
        2,
        2,
        3,
        5,
    )
    assert stats["instances_today"] == 5
    assert stats["series_by_modality"] == {"CT": 2, "MR": 1}
    stored = sum(p.stat().st_size for p in server.files())
    assert stats["stored_bytes"] == stored
    disk = stats["disk"]
    assert disk["total_bytes"] >= disk["used_bytes"] > 0 and disk["free_bytes"] > 0
