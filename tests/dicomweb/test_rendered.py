"""Rendered images, thumbnails, WADO-URI, the Weasis link and CORS, over real HTTP."""

from __future__ import annotations

import io
import urllib.parse

import pydicom
import requests
from PIL import Image

from tests.conftest import Server
from tests.dicomweb.conftest import Corpus
from tests.dicomweb.test_wado import parts


def _first(corpus: Corpus) -> pydicom.Dataset:
    return pydicom.dcmread(corpus.paths[0])


def _instance_url(server: Server, ds: pydicom.Dataset) -> str:
    return (
        f"{server.url}/dicomweb/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}"
        f"/instances/{ds.SOPInstanceUID}"
    )


def test_rendered_instance_and_frame(
    http: requests.Session, server: Server, corpus: Corpus
) -> None:
    url = _instance_url(server, _first(corpus))
    jpeg = http.get(f"{url}/rendered", timeout=30)
    assert jpeg.status_code == 200, jpeg.text
    assert jpeg.headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(jpeg.content)).size == (32, 32)
    png = http.get(
        f"{url}/frames/1/rendered",
        params={"viewport": "16,16", "window": "2048,4096,linear"},
        headers={"Accept": "image/png"},
        timeout=30,
    )
    assert png.headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(png.content)).size == (16, 16)
    assert http.get(f"{url}/rendered", params={"quality": "500"}, timeout=10).status_code == 400
    assert http.get(f"{url}/frames/3/rendered", timeout=10).status_code == 400


def test_rendered_series_is_one_part_per_instance(
    http: requests.Session, server: Server, corpus: Corpus
) -> None:
    url = f"{server.url}/dicomweb/studies/{corpus.doe}/series/{corpus.doe_series[0]}/rendered"
    response = http.get(url, headers={"Accept": "multipart/related; type=image/png"}, timeout=30)
    assert response.status_code == 200
    images = parts(response)
    assert [t for t, _ in images] == ["image/png"] * 3
    assert all(Image.open(io.BytesIO(data)).format == "PNG" for _, data in images)


def test_thumbnails_keep_the_aspect(http: requests.Session, server: Server, corpus: Corpus) -> None:
    study = http.get(f"{server.url}/dicomweb/studies/{corpus.doe}/thumbnail", timeout=30)
    assert study.headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(study.content)).size == (32, 32)  # never enlarged
    small = http.get(
        f"{server.url}/dicomweb/studies/{corpus.doe}/series/{corpus.doe_series[1]}/thumbnail",
        params={"size": "8"},
        timeout=30,
    )
    assert Image.open(io.BytesIO(small.content)).size == (8, 8)
    bad = http.get(f"{server.url}/dicomweb/studies/{corpus.doe}/thumbnail?size=big", timeout=10)
    assert bad.status_code == 400


def test_wado_uri(http: requests.Session, server: Server, corpus: Corpus) -> None:
    ds = _first(corpus)
    query = {
        "requestType": "WADO",
        "studyUID": ds.StudyInstanceUID,
        "seriesUID": ds.SeriesInstanceUID,
        "objectUID": ds.SOPInstanceUID,
    }
    jpeg = http.get(f"{server.url}/wado", params=query, timeout=30)
    assert jpeg.headers["Content-Type"] == "image/jpeg"
    png = http.get(
        f"{server.url}/wado",
        params={**query, "contentType": "image/png", "rows": "16", "columns": "16"},
        timeout=30,
    )
    assert Image.open(io.BytesIO(png.content)).size == (16, 16)
    dicom = http.get(
        f"{server.url}/wado", params={**query, "contentType": "application/dicom"}, timeout=30
    )
    assert pydicom.dcmread(io.BytesIO(dicom.content)).PixelData == ds.PixelData
    jls = http.get(
        f"{server.url}/wado",
        params={**query, "contentType": "application/dicom",
                "transferSyntax": "1.2.840.10008.1.2.4.80"},
        timeout=30,
    )  # fmt: skip
    assert pydicom.dcmread(io.BytesIO(jls.content)).file_meta.TransferSyntaxUID.endswith(".4.80")


def test_wado_uri_anonymize(http: requests.Session, server: Server, corpus: Corpus) -> None:
    ds = _first(corpus)
    query = {
        "requestType": "WADO", "studyUID": ds.StudyInstanceUID,
        "seriesUID": ds.SeriesInstanceUID, "objectUID": ds.SOPInstanceUID,
        "contentType": "application/dicom", "anonymize": "yes",
    }  # fmt: skip
    response = http.get(f"{server.url}/wado", params=query, timeout=30)
    assert response.status_code == 200, response.text
    out = pydicom.dcmread(io.BytesIO(response.content))
    assert str(out.PatientName) != "Doe^John"
    assert out.PatientID != "PAT001"
    assert out.SOPInstanceUID != ds.SOPInstanceUID
    assert out.PatientIdentityRemoved == "YES"
    assert out.PixelData == ds.PixelData


def test_wado_uri_errors_name_the_parameter(
    http: requests.Session, server: Server, corpus: Corpus
) -> None:
    ds = _first(corpus)
    good = {
        "requestType": "WADO", "studyUID": ds.StudyInstanceUID,
        "seriesUID": ds.SeriesInstanceUID, "objectUID": ds.SOPInstanceUID,
    }  # fmt: skip
    cases = [
        ({**good, "requestType": "WADX"}, 400, "requestType"),
        ({k: v for k, v in good.items() if k != "objectUID"}, 400, "objectUID"),
        ({**good, "seriesUID": "1.2.x"}, 400, "seriesUID"),
        ({**good, "contentType": "text/html"}, 400, "contentType"),
        ({**good, "windowCenter": "40"}, 400, "windowWidth"),
        ({**good, "frameNumber": "9"}, 400, "frame"),
        ({**good, "objectUID": "1.2.3.4"}, 404, ""),
    ]
    for params, status, word in cases:
        response = http.get(f"{server.url}/wado", params=params, timeout=30)
        assert response.status_code == status, (params, response.text)
        assert word in response.json()["detail"]


def test_weasis_link_carries_a_working_token(
    http: requests.Session, server: Server, corpus: Corpus
) -> None:
    response = http.get(f"{server.url}/api/studies/{corpus.doe}/weasis", timeout=10)
    assert response.status_code == 200
    url = response.json()["url"]
    assert url.startswith("weasis://")
    command = urllib.parse.unquote(url.removeprefix("weasis://"))
    assert command.startswith("$dicom:rs --url ")
    assert f"{server.url}/dicomweb" in command
    assert f"studyUID={corpus.doe}" in command
    token = command.split("Authorization: Bearer ")[1].rstrip("'\"")
    found = requests.get(
        f"{server.url}/dicomweb/studies/{corpus.doe}/series",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert found.status_code == 200
    assert len(found.json()) == 2
    assert http.get(f"{server.url}/api/studies/1.2.3/weasis", timeout=10).status_code == 404


def test_login_session_cookie(server: Server) -> None:
    session = requests.Session()
    from tests.dicomweb.conftest import PASSWORD, USER

    wrong = session.post(f"{server.url}/api/auth/login",
                         json={"username": USER, "password": "nope"}, timeout=10)  # fmt: skip
    assert wrong.status_code == 401
    login = session.post(f"{server.url}/api/auth/login",
                         json={"username": USER, "password": PASSWORD}, timeout=10)  # fmt: skip
    assert login.status_code == 200
    assert "pacs_session" in session.cookies
    assert session.get(f"{server.url}/dicomweb/studies", timeout=10).status_code == 200
    assert session.get(f"{server.url}/api/auth/me", timeout=10).json()["username"] == USER
    headers = {"X-CSRF-Token": session.cookies["pacs_csrf"]}
    assert session.put(f"{server.url}/api/auth/preferences", json={"language": "zh-CN"},
                       headers=headers, timeout=10).ok  # fmt: skip
    assert session.get(f"{server.url}/api/auth/me", timeout=10).json()["language"] == "zh-CN"
    session.post(f"{server.url}/api/auth/logout", headers=headers, timeout=10)
    assert session.get(f"{server.url}/dicomweb/studies", timeout=10).status_code == 401
