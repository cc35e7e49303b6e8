"""Remote nodes through the REST API: added at run time, a C-ECHO test against a real DCMTK
peer, and a C-MOVE to an added node, which the DICOM workers learn about within seconds."""

from __future__ import annotations

import subprocess
from pathlib import Path

import requests

from tests.conftest import Server, dcmtk, free_port, require_dcmtk
from tests.dicomgen import make_ct, write

ADMIN = ("chief", "chief-password")


def _call(server: Server, method: str, path: str, **kw: object) -> requests.Response:
    return requests.request(method, f"{server.url}{path}", auth=ADMIN, timeout=30, **kw)  # type: ignore[arg-type]


def test_nodes_echo_and_move(make_server: object, tmp_path: Path) -> None:
    require_dcmtk()
    server: Server = make_server(
        nodes=[{"name": "fixed", "ae_title": "FIXED", "host": "127.0.0.1", "port": 104}]
    ).start()  # type: ignore[operator]
    server.add_user(*ADMIN, role="admin")
    port = free_port()
    received = tmp_path / "received"
    received.mkdir()
    peer = subprocess.Popen(["storescp", "-aet", "DEST", "-od", str(received), str(port)])
    try:
        body = {"name": "dest", "ae_title": "DEST", "host": "127.0.0.1", "port": port,
                "allow": ["echo", "find", "move"]}  # fmt: skip
        made = _call(server, "POST", "/api/nodes", json=body)
        assert made.status_code == 201, made.text
        listed = {n["name"]: n["source"] for n in _call(server, "GET", "/api/nodes").json()}
        assert listed == {"fixed": "config", "dest": "database"}
        echo = _call(server, "POST", "/api/nodes/dest/echo").json()
        assert echo["ok"] is True and echo["status"] == 0
        dead = _call(server, "POST", "/api/nodes/fixed/echo").json()
        assert dead["ok"] is False and dead["detail"]
        bad = _call(server, "POST", "/api/nodes", json={**body, "name": "x", "ae_title": "A\\B"})
        assert bad.status_code == 400 and "ae_title" in bad.json()["detail"]
        taken = _call(server, "POST", "/api/nodes", json={**body, "name": "dest2"})
        assert taken.status_code == 400 and "DEST" in taken.json()["detail"]
        config = _call(
            server, "POST", "/api/nodes", json={**body, "name": "fixed", "ae_title": "F2"}
        )
        assert config.status_code == 400
        ds = make_ct(patient_id="MOVE1")
        folder = tmp_path / "in"
        write(ds, folder / "a.dcm")
        server.store_folder(folder)
        dcmtk("movescu", "-S", "-aet", "DEST", "-aec", "PACS", "-aem", "DEST",
              "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={ds.StudyInstanceUID}",
              "127.0.0.1", str(server.dicom_port))  # fmt: skip
        assert len(list(received.iterdir())) == 1
        assert _call(server, "DELETE", "/api/nodes/dest").ok
        assert _call(server, "DELETE", "/api/nodes/fixed").status_code == 404
        viewer = requests.get(f"{server.url}/api/nodes", timeout=10)
        assert viewer.status_code == 401
    finally:
        peer.terminate()
        peer.wait(10)
