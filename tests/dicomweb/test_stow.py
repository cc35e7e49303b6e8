"""STOW-RS through dicomweb-client and raw HTTP; what it stores DCMTK findscu finds."""

from __future__ import annotations

import io
import re

import requests
from dicomweb_client.api import DICOMwebClient
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from requests.exceptions import HTTPError

from tests.conftest import Server, dcmtk
from tests.dicomgen import make_ct
from tests.dicomweb.conftest import STOW_LIMIT

CT = '"application/dicom"'


def part10(ds: Dataset) -> bytes:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def body(*payloads: bytes, boundary: str = "b0undary") -> tuple[bytes, str]:
    chunks = [
        b"--" + boundary.encode() + b"\r\nContent-Type: application/dicom\r\n\r\n" + p + b"\r\n"
        for p in payloads
    ]
    data = b"".join(chunks) + b"--" + boundary.encode() + b"--\r\n"
    return data, f"multipart/related; type={CT}; boundary={boundary}"


def findscu_study(server: Server, study: str) -> str:
    done = dcmtk(
        "findscu", "-v", "-S", "-aec", "PACS", "-k", "QueryRetrieveLevel=STUDY",
        "-k", f"StudyInstanceUID={study}", "-k", "PatientName",
        "-k", "NumberOfStudyRelatedInstances", "127.0.0.1", str(server.dicom_port),
    )  # fmt: skip
    return done.stdout + done.stderr


def test_stored_instances_are_found_by_qido_and_findscu(
    client: DICOMwebClient, server: Server
) -> None:
    study = generate_uid()
    datasets = [
        make_ct(study=study, patient_id="STOW1", patient_name="Stow^Test", number=n, seed=n)
        for n in (1, 2)
    ]
    answer = client.store_instances(datasets)
    refs = answer.ReferencedSOPSequence
    assert {r.ReferencedSOPInstanceUID for r in refs} == {d.SOPInstanceUID for d in datasets}
    assert all(f"/dicomweb/studies/{study}/series/" in r.RetrieveURL for r in refs)
    assert "FailedSOPSequence" not in answer
    found = client.search_for_instances(study)
    assert len(found) == 2
    text = findscu_study(server, study)
    assert "Stow^Test" in text
    assert re.search(r"IS \[2 ?\]\s+#\s+2, 1 NumberOfStudyRelatedInstances", text), text


def test_part_of_another_study_is_refused(http: requests.Session, server: Server) -> None:
    wrong = make_ct(study=generate_uid(), patient_id="STOW2")
    url_study = generate_uid()
    data, content_type = body(part10(wrong))
    response = http.post(
        f"{server.url}/dicomweb/studies/{url_study}",
        data=data,
        headers={"Content-Type": content_type},
        timeout=30,
    )
    assert response.status_code == 409
    failed = response.json()["00081198"]["Value"][0]
    assert failed["00081155"]["Value"] == [wrong.SOPInstanceUID]
    assert failed["00081197"]["Value"] == [0xC409]
    assert url_study in response.headers["Warning"]


def test_a_bad_part_does_not_stop_the_good_ones(http: requests.Session, server: Server) -> None:
    good = make_ct(patient_id="STOW3", patient_name="李^四", SpecificCharacterSet="ISO_IR 192")
    data, content_type = body(b"this is not DICOM at all" * 10, part10(good))
    response = http.post(
        f"{server.url}/dicomweb/studies", data=data, headers={"Content-Type": content_type},
        timeout=30,
    )  # fmt: skip
    assert response.status_code == 202, response.text
    result = response.json()
    assert result["00081199"]["Value"][0]["00081155"]["Value"] == [good.SOPInstanceUID]
    assert result["00081198"]["Value"][0]["00081197"]["Value"] == [0xC000]
    found = http.get(
        f"{server.url}/dicomweb/studies", params={"PatientID": "STOW3"}, timeout=10
    ).json()
    assert found[0]["00100010"]["Value"][0]["Alphabetic"] == "李^四"


def test_wrong_media_types_and_sizes(http: requests.Session, server: Server) -> None:
    url = f"{server.url}/dicomweb/studies"
    plain = http.post(url, data=b"x", headers={"Content-Type": "application/dicom"}, timeout=10)
    assert plain.status_code == 415
    xml_type = "multipart/related; type=application/dicom+xml; boundary=x"
    xml = http.post(url, data=b"x", headers={"Content-Type": xml_type}, timeout=10)
    assert xml.status_code == 415
    no_boundary = http.post(
        url, data=b"x", headers={"Content-Type": f"multipart/related; type={CT}"}, timeout=10
    )
    assert no_boundary.status_code == 415
    big, content_type = body(b"\0" * (STOW_LIMIT + 1))
    too_big = http.post(url, data=big, headers={"Content-Type": content_type}, timeout=30)
    assert too_big.status_code == 413
    empty, content_type = body()
    nothing = http.post(url, data=empty, headers={"Content-Type": content_type}, timeout=10)
    assert nothing.status_code == 400


def test_stow_needs_an_account(server: Server) -> None:
    data, content_type = body(part10(make_ct()))
    response = requests.post(
        f"{server.url}/dicomweb/studies", data=data, headers={"Content-Type": content_type},
        timeout=10,
    )  # fmt: skip
    assert response.status_code == 401


def test_duplicates_are_acknowledged_by_default(client: DICOMwebClient) -> None:
    ds = make_ct(patient_id="STOW4")
    client.store_instances([ds])
    again = client.store_instances([ds])
    assert again.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == ds.SOPInstanceUID
    try:
        client.store_instances([ds], study_instance_uid=generate_uid())
    except HTTPError as exc:
        assert exc.response.status_code == 409
    else:
        raise AssertionError("a study mismatch must fail")


def test_series_metadata_follows_new_instances(
    client: DICOMwebClient, http: requests.Session, server: Server
) -> None:
    study, series = generate_uid(), generate_uid()
    first = make_ct(study=study, series=series, number=1)
    client.store_instances([first])
    url = f"{server.url}/dicomweb/studies/{study}/series/{series}/metadata"
    before = http.get(url, timeout=10)
    assert len(before.json()) == 1
    assert (
        http.get(url, headers={"If-None-Match": before.headers["ETag"]}, timeout=10).status_code
        == 304
    )
    client.store_instances([make_ct(study=study, series=series, number=2)])
    after = http.get(url, headers={"If-None-Match": before.headers["ETag"]}, timeout=10)
    assert after.status_code == 200
    assert len(after.json()) == 2
    assert after.headers["ETag"] != before.headers["ETag"]


def test_a_viewer_may_search_but_not_store(server: Server) -> None:
    from tests.dicomweb.conftest import PASSWORD, VIEWER

    auth = (VIEWER, PASSWORD)
    assert requests.get(f"{server.url}/dicomweb/studies", auth=auth, timeout=10).status_code == 200
    data, content_type = body(part10(make_ct()))
    refused = requests.post(
        f"{server.url}/dicomweb/studies", data=data, headers={"Content-Type": content_type},
        auth=auth, timeout=10,
    )  # fmt: skip
    assert refused.status_code == 403
    assert "viewer" in refused.json()["detail"]
