"""/metrics and /api/monitoring on a real server with its two DICOM worker processes: stores
counted wherever they were served, QIDO requests timed, the live view's ingest rate, and who may
read what."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.conftest import Server, require_dcmtk
from tests.monitoring.conftest import (
    VIEWER,
    get,
    instances,
    main_process_busy,
    sample,
    with_accounts,
)


@pytest.fixture
def server(make_server: object) -> Server:
    require_dcmtk()
    return with_accounts(make_server().start())  # type: ignore[operator]


def test_stores_in_every_process_are_counted(server: Server, tmp_path: Path) -> None:
    with main_process_busy(server):
        server.store_folder(instances(tmp_path / "a", 3))  # served by worker process 1
    worker_log = (server.home / "logs" / "pacs-worker1.jsonl").read_text()
    assert "association established from STORESCU" in worker_log
    server.store_folder(instances(tmp_path / "b", 2))
    text = get(server, "/metrics").text
    assert sample(text, "pacs_instances_stored_total", source="dicom", outcome="stored") == 5
    assert sample(text, "pacs_dicom_store_seconds_count") == 5
    assert sample(text, "pacs_dicom_store_seconds_bucket", le="+Inf") == 5
    assert sample(text, "pacs_dicom_store_seconds_sum") > 0
    assert sample(text, "pacs_stored_bytes_total", source="dicom") > 5 * 2048
    assert sample(text, "pacs_dicom_bytes_total", direction="in") > 5 * 2048
    assert sample(text, "pacs_dicom_bytes_total", direction="out") > 0
    for role in ("main", "dicom-worker-1", "dicom-worker-2"):
        assert sample(text, "pacs_process_resident_memory_bytes", process=role) > 0
    assert sample(text, "pacs_storage_free_bytes") > 0
    assert 'pacs_queue_depth{queue="store"}' in text
    assert sample(text, "pacs_dicom_associations") == 0

    view = get(server, "/api/monitoring", VIEWER, errors=5).json()
    assert view["ingest"]["rate"] > 0
    assert view["ingest"]["stored_total"] == 5
    assert view["ingest"]["interval_s"] == 10
    assert isinstance(view["ingest"]["history"], list)
    cstore = view["latency"]["cstore"]
    assert cstore["count"] == 5 and 0 < cstore["p50_ms"] <= cstore["p95_ms"]
    assert {p["role"] for p in view["processes"]} >= {"main", "dicom-worker-1", "dicom-worker-2"}
    assert all(p["rss_bytes"] > 0 for p in view["processes"])
    assert view["disk"]["free_bytes"] > 0
    assert set(view["queues"]) == {"store", "index", "imaging"}
    assert view["associations"] == 0
    assert view["errors"] == []


def test_qido_latency_and_credentials(server: Server, tmp_path: Path) -> None:
    server.store_folder(instances(tmp_path / "in", 1))
    for _ in range(3):
        assert get(server, "/dicomweb/studies", VIEWER).status_code == 200
    assert get(server, "/dicomweb/series", VIEWER).status_code == 200
    text = get(server, "/metrics", VIEWER).text
    assert sample(text, "pacs_dicomweb_request_seconds_count", kind="qido") == 4
    assert sample(text, "pacs_dicomweb_request_seconds_count", kind="wado") == 0
    route = {"method": "GET", "route": "/dicomweb/studies"}
    assert sample(text, "pacs_http_request_seconds_count", **route) == 3
    assert sample(text, "pacs_http_bytes_total", direction="out") > 0
    view = get(server, "/api/monitoring", VIEWER).json()
    assert view["latency"]["qido"]["count"] == 4
    assert view["latency"]["qido"]["p50_ms"] > 0
    assert view["latency"]["wado"] == {"count": 0, "p50_ms": None, "p95_ms": None}

    bad = get(server, "/api/monitoring", VIEWER, errors=1000)
    assert bad.status_code == 400 and "errors" in bad.json()["detail"]
    for path in ("/metrics", "/api/monitoring"):
        assert requests.get(f"{server.url}{path}", timeout=10).status_code == 401, path
    wrong = requests.get(f"{server.url}/metrics", auth=("eye", "wrong"), timeout=10)
    assert wrong.status_code == 401
    assert "Basic" in wrong.headers.get("WWW-Authenticate", "")
