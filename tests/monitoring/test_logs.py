"""Logs through the REST API on a real server: levels changed at run time in the main process and
in a DICOM worker process, log files listed, read with filters, downloaded and deleted, the audit
log, and who may do each."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import Server, require_dcmtk
from tests.monitoring.conftest import (
    ADMIN,
    OPERATOR,
    VIEWER,
    get,
    instances,
    main_process_busy,
    with_accounts,
)

WRITER_DEBUG = "pacs.writer"  # logs every stored instance at DEBUG
UNAUTHENTICATED = [
    ("GET", "/api/logs"),
    ("GET", "/api/logs/levels"),
    ("PUT", "/api/logs/levels"),
    ("GET", "/api/logs/pacs.jsonl"),
    ("GET", "/api/logs/pacs.jsonl/download"),
    ("DELETE", "/api/logs/pacs.jsonl.1"),
    ("GET", "/api/audit"),
]


@pytest.fixture
def server(make_server: object) -> Server:
    require_dcmtk()
    started = make_server(logging={"level": "INFO"}).start()  # type: ignore[operator]
    return with_accounts(started)


def _put(server: Server, who: tuple[str, str], body: Any) -> requests.Response:
    return requests.put(f"{server.url}/api/logs/levels", json=body, auth=who, timeout=10)


def _debug_from_writer(server: Server, name: str) -> list[dict[str, Any]]:
    found = get(server, f"/api/logs/{name}", OPERATOR, level="DEBUG", tail=1000).json()
    return [
        e for e in found["entries"] if e.get("level") == "DEBUG" and e["logger"] == WRITER_DEBUG
    ]


def _wait_for_line(path: Path, text: str, deadline: float = 30.0) -> None:
    """The worker applies a change within about a second; wait for the line that says so."""
    end = time.monotonic() + deadline
    while text not in (path.read_text() if path.exists() else ""):
        assert time.monotonic() < end, f"{text!r} never appeared in {path.name}"
        time.sleep(0.1)


def test_levels_change_at_run_time(server: Server, tmp_path: Path) -> None:
    assert get(server, "/api/logs/levels", VIEWER).json()["storage"] == "INFO"
    server.store_folder(instances(tmp_path / "a", 1))
    assert _debug_from_writer(server, "pacs.jsonl") == []

    for who in (VIEWER, OPERATOR):
        assert _put(server, who, {"service": "storage", "level": "DEBUG"}).status_code == 403
    unknown = _put(server, ADMIN, {"service": "nonsense", "level": "DEBUG"})
    assert unknown.status_code == 400 and "query-retrieve" in unknown.json()["detail"]
    loud = _put(server, ADMIN, {"service": "storage", "level": "LOUD"})
    assert loud.status_code == 400 and "WARNING" in loud.json()["detail"]
    assert _put(server, ADMIN, {"service": "storage"}).status_code == 400

    levels = _put(server, ADMIN, {"service": "storage", "level": "debug"}).json()
    assert levels["storage"] == "DEBUG" and levels["http"] == "INFO"
    server.store_folder(instances(tmp_path / "b", 1))  # the main process serves a lone sender
    assert len(_debug_from_writer(server, "pacs.jsonl")) == 1

    worker_log = server.home / "logs" / "pacs-worker1.jsonl"
    _wait_for_line(worker_log, "log levels changed: storage=DEBUG")
    with main_process_busy(server):
        server.store_folder(instances(tmp_path / "c", 2))  # served by worker process 1
    assert len(_debug_from_writer(server, "pacs-worker1.jsonl")) == 2

    assert get(server, "/api/audit", OPERATOR).status_code == 403
    audit = get(server, "/api/audit", ADMIN, limit=5).json()
    change = audit["items"][0]
    assert (change["action"], change["target"], change["username"]) == (
        "log_level", "storage", ADMIN[0],
    )  # fmt: skip
    assert change["detail"] == "INFO -> DEBUG"
    assert get(server, "/api/audit", ADMIN, limit=0).status_code == 400


def test_log_files(server: Server) -> None:
    logs = server.home / "logs"
    for method, path in UNAUTHENTICATED:
        answer = requests.request(method, f"{server.url}{path}", timeout=10)
        assert answer.status_code == 401, (method, path)
    assert get(server, "/api/logs", VIEWER).status_code == 403
    listed = {f["name"]: f for f in get(server, "/api/logs", OPERATOR).json()}
    assert {"pacs.jsonl", "pacs-worker1.jsonl", "pacs-worker2.jsonl"} <= set(listed)
    assert listed["pacs.jsonl"]["size"] > 0 and listed["pacs.jsonl"]["modified"]
    assert listed["pacs.jsonl"]["active"] and listed["pacs-worker2.jsonl"]["active"]

    warnings = get(server, "/api/logs/pacs.jsonl", OPERATOR, level="warning").json()["entries"]
    assert warnings and all(e["level"] in ("WARNING", "ERROR", "CRITICAL") for e in warnings)
    assert any("default account" in e["msg"] for e in warnings)
    found = get(server, "/api/logs/pacs.jsonl", OPERATOR, q="HTTP LISTENING").json()["entries"]
    assert len(found) == 1 and found[0]["logger"] == "pacs.http"
    last = get(server, "/api/logs/pacs.jsonl", OPERATOR, tail=2).json()["entries"]
    assert len(last) == 2 and last[0]["ts"] <= last[1]["ts"]

    for params in ({"tail": 0}, {"tail": "many"}, {"level": "LOUD"}):
        bad = get(server, "/api/logs/pacs.jsonl", OPERATOR, **params)
        assert bad.status_code == 400 and bad.json()["detail"], params
    (server.home / "secret.jsonl").write_text('{"msg": "outside"}\n')
    (logs / "link.jsonl").symlink_to(server.home / "secret.jsonl")
    for name in ("..%2Fsecret.jsonl", "..", "pacs.toml", ".run", "missing.jsonl", "link.jsonl"):
        answer = get(server, f"/api/logs/{name}", ADMIN)
        assert answer.status_code in (400, 404), name
        assert "outside" not in answer.text
    assert get(server, "/api/logs/pacs.toml", ADMIN).status_code == 400
    assert get(server, "/api/logs/missing.jsonl", ADMIN).status_code == 404

    download = get(server, "/api/logs/pacs.jsonl/download", OPERATOR)
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    assert (logs / "pacs.jsonl").read_bytes().startswith(download.content)
    assert json.loads(download.content.splitlines()[0])["level"]
    assert get(server, "/api/logs/pacs.jsonl/download", VIEWER).status_code == 403


def test_delete_log_files(server: Server) -> None:
    logs = server.home / "logs"
    (logs / "pacs.jsonl.1").write_text('{"level": "INFO", "msg": "rotated"}\n')

    def delete(name: str, who: tuple[str, str] = ADMIN) -> requests.Response:
        return requests.delete(f"{server.url}/api/logs/{name}", auth=who, timeout=10)

    assert delete("pacs.jsonl.1", OPERATOR).status_code == 403
    assert delete("pacs.jsonl.1", VIEWER).status_code == 403
    for busy in ("pacs.jsonl", "pacs-worker1.jsonl"):
        refused = delete(busy)
        assert refused.status_code == 409 and "being written" in refused.json()["detail"]
    assert delete("..").status_code in (400, 404)
    assert delete("nothing.jsonl.7").status_code == 404
    done = delete("pacs.jsonl.1")
    assert done.status_code == 200 and done.json() == {"name": "pacs.jsonl.1", "bytes": 36}
    assert not (logs / "pacs.jsonl.1").exists()
    assert (logs / "pacs.jsonl").exists()
    entry = get(server, "/api/audit", ADMIN, limit=1).json()["items"][0]
    assert (entry["action"], entry["target"]) == ("log_delete", "pacs.jsonl.1")
