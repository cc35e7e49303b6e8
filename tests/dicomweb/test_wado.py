"""WADO-RS through dicomweb-client and raw HTTP: instances, metadata, frames, bulk data."""

from __future__ import annotations

import email.parser
import email.policy
import io

import numpy as np
import pydicom
import requests
from dicomweb_client.api import DICOMwebClient
from pydicom.dataset import Dataset

from tests.conftest import Server
from tests.dicomgen import dataset_bytes
from tests.dicomweb.conftest import Corpus

JPEG_LS = "1.2.840.10008.1.2.4.80"


def parts(response: requests.Response) -> list[tuple[str, bytes]]:
    """(Content-Type, payload) of each part of a multipart/related response."""
    head = f"Content-Type: {response.headers['Content-Type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(
        head + response.content
    )
    assert message.is_multipart(), response.headers["Content-Type"]
    return [(p["Content-Type"], p.get_payload(decode=True)) for p in message.get_payload()]


def originals(corpus: Corpus) -> dict[str, Dataset]:
    return {str(ds.SOPInstanceUID): ds for ds in map(pydicom.dcmread, corpus.paths)}


def test_retrieve_study_gives_every_instance_intact(client: DICOMwebClient, corpus: Corpus) -> None:
    got = client.retrieve_study(corpus.doe)
    want = originals(corpus)
    assert len(got) == 6
    for ds in got:
        original = want[str(ds.SOPInstanceUID)]
        assert ds.PixelData == original.PixelData
        assert ds.PatientName == original.PatientName
        assert str(ds.file_meta.TransferSyntaxUID) == "1.2.840.10008.1.2.1"


def test_as_stored_bytes_equal_the_stored_files(
    http: requests.Session, server: Server, corpus: Corpus
) -> None:
    series = corpus.doe_series[0]
    response = http.get(
        f"{server.url}/dicomweb/studies/{corpus.doe}/series/{series}",
        headers={"Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*'},
        timeout=30,
    )
    assert response.status_code == 200
    stored = {
        str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID): p for p in server.files()
    }
    got = parts(response)
    assert len(got) == 3
    for content_type, payload in got:
        assert content_type.startswith("application/dicom; transfer-syntax=")
        ds = pydicom.dcmread(io.BytesIO(payload))
        assert payload[132:] == stored[str(ds.SOPInstanceUID)].read_bytes()[132:]
        assert dataset_bytes(stored[str(ds.SOPInstanceUID)]) in payload


def test_transcoded_on_request(http: requests.Session, server: Server, corpus: Corpus) -> None:
    sop = pydicom.dcmread(corpus.paths[0]).SOPInstanceUID
    url = f"{server.url}/dicomweb/studies/{corpus.doe}/series/{corpus.doe_series[0]}"
    for accept in (
        f"multipart/related; type=application/dicom; transfer-syntax={JPEG_LS}",
        f'multipart/related; type="application/dicom"; transfer-syntax={JPEG_LS}',
    ):
        response = http.get(f"{url}/instances/{sop}", headers={"Accept": accept}, timeout=30)
        assert response.status_code == 200, response.text
        [(content_type, payload)] = parts(response)
        assert content_type == f"application/dicom; transfer-syntax={JPEG_LS}"
        ds = pydicom.dcmread(io.BytesIO(payload))
        assert str(ds.file_meta.TransferSyntaxUID) == JPEG_LS
        original = pydicom.dcmread(corpus.paths[0])
        assert np.array_equal(ds.pixel_array, original.pixel_array)


def test_impossible_syntax_is_406(http: requests.Session, server: Server, corpus: Corpus) -> None:
    response = http.get(
        f"{server.url}/dicomweb/studies/{corpus.doe}",
        headers={"Accept": "multipart/related; type=application/dicom; "
                 "transfer-syntax=1.2.840.10008.1.2.4.50"},
        timeout=30,
    )  # fmt: skip
    assert response.status_code == 406
    assert response.json()["detail"]


def test_unknown_and_malformed_uids(http: requests.Session, server: Server) -> None:
    assert http.get(f"{server.url}/dicomweb/studies/1.2.3.4", timeout=10).status_code == 404
    bad = http.get(f"{server.url}/dicomweb/studies/..%2F..%2Fetc", timeout=10)
    assert bad.status_code in (400, 404)
    assert http.get(f"{server.url}/dicomweb/studies/1.2.x/metadata", timeout=10).status_code == 400


def test_series_metadata_with_bulk_data_uris(
    client: DICOMwebClient, http: requests.Session, corpus: Corpus
) -> None:
    meta = client.retrieve_series_metadata(corpus.doe, corpus.doe_series[1])
    assert len(meta) == 3
    want = originals(corpus)
    for item in meta:
        ds = Dataset.from_json(item, lambda uri: b"")
        assert ds.SOPInstanceUID in want
        assert ds.Rows == 32
        uri = item["7FE00010"]["BulkDataURI"]
        assert uri.startswith("http://127.0.0.1:")
        frames = http.get(
            uri, headers={"Accept": "multipart/related; type=application/octet-stream"}, timeout=10
        )
        [(content_type, payload)] = parts(frames)
        assert content_type == "application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1"
        assert payload == want[ds.SOPInstanceUID].PixelData


def test_metadata_etag_and_forwarded_urls(
    http: requests.Session, server: Server, corpus: Corpus
) -> None:
    url = f"{server.url}/dicomweb/studies/{corpus.doe}/series/{corpus.doe_series[0]}/metadata"
    first = http.get(url, timeout=10)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    again = http.get(url, headers={"If-None-Match": etag}, timeout=10)
    assert again.status_code == 304
    proxied = http.get(
        url,
        headers={
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "pacs.example.org",
            "X-Forwarded-Prefix": "/archive",
        },
        timeout=10,
    ).json()
    uri = proxied[0]["7FE00010"]["BulkDataURI"]
    assert uri.startswith("https://pacs.example.org/archive/dicomweb/studies/")
    study = http.get(f"{server.url}/dicomweb/studies/{corpus.doe}/metadata", timeout=10).json()
    assert len(study) == 6


def test_frames_raw_and_compressed(
    client: DICOMwebClient, http: requests.Session, server: Server, corpus: Corpus
) -> None:
    original = pydicom.dcmread(corpus.paths[0])
    sop = str(original.SOPInstanceUID)
    series = str(original.SeriesInstanceUID)
    [raw] = client.retrieve_instance_frames(corpus.doe, series, sop, frame_numbers=[1])
    assert raw == original.PixelData
    url = f"{server.url}/dicomweb/studies/{corpus.doe}/series/{series}/instances/{sop}/frames/1"
    jls = http.get(url, headers={"Accept": "multipart/related; type=image/jls"}, timeout=30)
    assert jls.status_code == 200, jls.text
    [(content_type, stream)] = parts(jls)
    assert content_type == f"image/jls; transfer-syntax={JPEG_LS}"
    assert stream[:2] == b"\xff\xd8"  # a bare JPEG-LS codestream, no item tags
    single = http.get(url, headers={"Accept": "application/octet-stream"}, timeout=10)
    assert single.headers["Content-Type"].startswith("application/octet-stream")
    assert single.content == original.PixelData
    assert http.get(url[:-1] + "2", timeout=10).status_code == 400
    assert http.get(url[:-1] + "x", timeout=10).status_code == 400


def test_accept_variants_for_retrieval(
    http: requests.Session, server: Server, corpus: Corpus
) -> None:
    series = f"{server.url}/dicomweb/studies/{corpus.doe}/series/{corpus.doe_series[0]}"
    combined = http.get(
        f"{series}/metadata",
        headers={
            "Accept": "application/dicom+json, multipart/related; type=application/octet-stream"
        },
        timeout=10,
    )
    assert combined.headers["Content-Type"] == "application/dicom+json"
    for accept in (
        "multipart/related; type=application/dicom",
        'multipart/related; type="application/dicom"',
        "image/png;q=0.5, multipart/related; type=application/dicom; transfer-syntax=*",
        "*/*",
        "multipart/related",
    ):
        response = http.get(series, headers={"Accept": accept}, timeout=30)
        assert response.status_code == 200, accept
        assert response.headers["Content-Type"].startswith(
            'multipart/related; type="application/dicom"'
        )
        assert len(parts(response)) == 3
    by_query = http.get(
        series,
        params={"accept": "multipart/related; type=application/dicom; transfer-syntax=*"},
        headers={"Accept": "text/html"},
        timeout=30,
    )
    assert by_query.status_code == 200
    refused = http.get(series, headers={"Accept": "text/html"}, timeout=10)
    assert refused.status_code == 406
    assert "multipart/related" in refused.json()["detail"]


def test_dicomweb_client_at_every_level(client: DICOMwebClient, corpus: Corpus) -> None:
    original = pydicom.dcmread(corpus.paths[3])
    study, series, sop = (
        str(original.StudyInstanceUID),
        str(original.SeriesInstanceUID),
        str(original.SOPInstanceUID),
    )
    assert len(client.retrieve_series(study, series)) == 3
    instance = client.retrieve_instance(study, series, sop)
    assert instance.PixelData == original.PixelData
    assert len(client.retrieve_study_metadata(study)) == 6
    meta = client.retrieve_instance_metadata(study, series, sop)
    assert meta["00080018"]["Value"] == [sop]
    rendered = client.retrieve_instance_rendered(study, series, sop, media_types=("image/png",))
    assert rendered[:8] == b"\x89PNG\r\n\x1a\n"
    stored_like = client.retrieve_study(study, media_types=(("application/dicom", "*"),))
    assert {ds.SOPInstanceUID for ds in stored_like} >= {sop}


def test_frames_of_a_compressed_instance(
    client: DICOMwebClient, http: requests.Session, server: Server
) -> None:
    from pacs.imaging.transcode import transcode
    from tests.dicomgen import make_ct

    native = make_ct(patient_id="JLS", rows=48, columns=40, seed=7)
    stored = transcode(native, JPEG_LS)
    client.store_instances([stored])
    url = (
        f"{server.url}/dicomweb/studies/{native.StudyInstanceUID}/series/"
        f"{native.SeriesInstanceUID}/instances/{native.SOPInstanceUID}/frames/1"
    )
    decoded = http.get(url, headers={"Accept": "multipart/related; type=application/octet-stream"},
                       timeout=30)  # fmt: skip
    [(content_type, raw)] = parts(decoded)
    assert content_type == "application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1"
    assert raw == native.PixelData
    as_stored = http.get(
        url,
        headers={"Accept": "multipart/related; type=application/octet-stream; transfer-syntax=*"},
        timeout=30,
    )
    [(content_type, stream)] = parts(as_stored)
    assert content_type == f"application/octet-stream; transfer-syntax={JPEG_LS}"
    assert stream[:2] == b"\xff\xd8" and stream.rstrip(b"\0")[-2:] == b"\xff\xd9"
    rle = http.get(url, headers={"Accept": "multipart/related; type=image/x-dicom-rle"}, timeout=30)
    [(content_type, _)] = parts(rle)
    assert content_type == "image/x-dicom-rle; transfer-syntax=1.2.840.10008.1.2.5"
    refused = http.get(url, headers={"Accept": "multipart/related; type=image/jpeg; "
                                     f"transfer-syntax={JPEG_LS}"}, timeout=30)  # fmt: skip
    assert refused.status_code == 406
