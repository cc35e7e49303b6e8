"""QIDO-RS through dicomweb-client and raw HTTP, on studies DCMTK storescu stored."""

from __future__ import annotations

import requests
from dicomweb_client.api import DICOMwebClient
from pydicom.dataset import Dataset

from tests.conftest import Server
from tests.dicomweb.conftest import Corpus


def _uids(results: list[dict[str, object]], tag: str = "0020000D") -> set[str]:
    return {str(r[tag]["Value"][0]) for r in results}  # type: ignore[index]


def test_no_credentials_is_401_with_a_basic_challenge(server: Server) -> None:
    response = requests.get(f"{server.url}/dicomweb/studies", timeout=10)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "authentication required"


def test_default_admin_must_change_its_password_first(server: Server) -> None:
    response = requests.get(f"{server.url}/dicomweb/studies", auth=("admin", "admin"), timeout=10)
    assert response.status_code == 403
    assert "must be changed" in response.json()["detail"]


def test_search_all_studies(client: DICOMwebClient, corpus: Corpus) -> None:
    found = client.search_for_studies()
    assert _uids(found) == {corpus.doe, corpus.zhang}
    doe = next(r for r in found if r["0020000D"]["Value"][0] == corpus.doe)
    ds = Dataset.from_json(doe)
    assert ds.PatientName == "Doe^John"
    assert ds.NumberOfStudyRelatedSeries == 2
    assert ds.NumberOfStudyRelatedInstances == 6
    assert ds.ModalitiesInStudy == "CT"
    assert ds.StudyDate == "20240305"
    assert ds.RetrieveURL.endswith(f"/dicomweb/studies/{corpus.doe}")
    assert doe["00080056"]["Value"] == ["ONLINE"]
    assert "Value" not in doe["00080090"]  # ReferringPhysicianName: empty, no Value


def test_chinese_name_survives_and_matches(client: DICOMwebClient, corpus: Corpus) -> None:
    found = client.search_for_studies(search_filters={"PatientName": "张*"})
    assert _uids(found) == {corpus.zhang}
    name = found[0]["00100010"]["Value"][0]
    assert name == {"Alphabetic": "Zhang^San", "Ideographic": "张^三"}


def test_fuzzy_matching_finds_a_name_by_any_component(
    client: DICOMwebClient, corpus: Corpus
) -> None:
    assert _uids(client.search_for_studies(search_filters={"PatientName": "san"})) == set()
    fuzzy = client.search_for_studies(search_filters={"PatientName": "san"}, fuzzymatching=True)
    assert _uids(fuzzy) == {corpus.zhang}
    ideographic = client.search_for_studies(
        search_filters={"PatientName": "三"}, fuzzymatching=True
    )
    assert _uids(ideographic) == {corpus.zhang}


def test_date_ranges_and_modalities(client: DICOMwebClient, corpus: Corpus) -> None:
    assert _uids(client.search_for_studies(search_filters={"StudyDate": "20240101-"})) == {
        corpus.doe
    }
    assert _uids(client.search_for_studies(search_filters={"StudyDate": "-20231231"})) == {
        corpus.zhang
    }
    both = client.search_for_studies(search_filters={"ModalitiesInStudy": "CT\\MR"})
    assert _uids(both) == {corpus.doe, corpus.zhang}
    assert _uids(client.search_for_studies(search_filters={"00080061": "MR"})) == {corpus.zhang}


def test_uid_list_with_commas(http: requests.Session, server: Server, corpus: Corpus) -> None:
    response = http.get(
        f"{server.url}/dicomweb/studies",
        params={"StudyInstanceUID": f"{corpus.doe},{corpus.zhang}"},
        timeout=10,
    )
    assert response.status_code == 200
    assert _uids(response.json()) == {corpus.doe, corpus.zhang}


def test_paging_with_offset_and_limit(http: requests.Session, server: Server) -> None:
    seen: list[str] = []
    offset = 0
    while True:
        page = http.get(
            f"{server.url}/dicomweb/instances", params={"limit": 4, "offset": offset}, timeout=10
        )
        assert page.status_code == 200
        body = page.json()
        if not body:
            break
        assert len(body) <= 4
        seen += [r["00080018"]["Value"][0] for r in body]
        offset += len(body)
        if offset < 8:
            assert "more results" in page.headers.get("Warning", "")
    assert len(seen) == len(set(seen)) == 8


def test_series_and_instances_of_a_study(client: DICOMwebClient, corpus: Corpus) -> None:
    series = client.search_for_series(corpus.doe)
    assert _uids(series, "0020000E") == set(corpus.doe_series)
    assert {s["00200011"]["Value"][0] for s in series} == {1, 2}
    assert all(s["00201209"]["Value"] == [3] for s in series)
    instances = client.search_for_instances(corpus.doe, corpus.doe_series[0])
    assert len(instances) == 3
    assert sorted(i["00200013"]["Value"][0] for i in instances) == [1, 2, 3]
    assert all(i["00280010"]["Value"] == [32] for i in instances)
    everything = client.search_for_series(search_filters={"Modality": "MR"})
    assert len(everything) == 1
    assert everything[0]["00100020"]["Value"] == ["PAT-ZH"]  # study attributes come along


def test_includefield(http: requests.Session, server: Server, corpus: Corpus) -> None:
    response = http.get(
        f"{server.url}/dicomweb/studies",
        params={"StudyInstanceUID": corpus.doe, "includefield": "00081030,InstitutionName"},
        timeout=10,
    )
    study = response.json()[0]
    assert study["00081030"]["Value"] == ["Chest"]
    assert study["00080080"] == {"vr": "LO"}
    every = http.get(
        f"{server.url}/dicomweb/studies",
        params={"StudyInstanceUID": corpus.doe, "includefield": "all"},
        timeout=10,
    ).json()[0]
    assert every["00100030"]["Value"] == ["19700101"]  # PatientBirthDate


def test_bad_queries_are_400_naming_the_problem(http: requests.Session, server: Server) -> None:
    cases = {
        "StudyDate": "2024-13-45",
        "limit": "ten",
        "NotAnAttribute": "x",
        "StudyInstanceUID": "1.2.abc",
    }
    for name, value in cases.items():
        response = http.get(f"{server.url}/dicomweb/studies", params={name: value}, timeout=10)
        assert response.status_code == 400, (name, response.text)
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json()["detail"]


def test_unmatched_attribute_is_named_in_a_warning(
    http: requests.Session, server: Server, corpus: Corpus
) -> None:
    response = http.get(
        f"{server.url}/dicomweb/studies", params={"PatientMotherBirthName": "X"}, timeout=10
    )
    assert response.status_code == 200
    assert "PatientMotherBirthName" in response.headers["Warning"]
    assert len(response.json()) == 2


def test_accept_variants(http: requests.Session, server: Server) -> None:
    for accept in ("application/dicom+json", "application/json", "*/*", ""):
        response = http.get(
            f"{server.url}/dicomweb/studies", headers={"Accept": accept}, timeout=10
        )
        assert response.status_code == 200, accept
    refused = http.get(
        f"{server.url}/dicomweb/studies", headers={"Accept": "application/dicom+xml"}, timeout=10
    )
    assert refused.status_code == 406
