"""Settings through the REST API: read with secrets masked, changed in the configuration file
after validation, logging levels at once, the rest at the next start."""

from __future__ import annotations

import tomllib

import requests

from tests.conftest import Server

ADMIN = ("root", "root-password")


def test_read_and_change_settings(make_server: object) -> None:
    server: Server = make_server(imaging={"anonymize_secret": "s3cret"}).start()  # type: ignore[operator]
    server.add_user(*ADMIN, role="admin")
    server.add_user("op", "op-password", role="operator")
    url = f"{server.url}/api/settings"
    current = requests.get(url, auth=ADMIN, timeout=10).json()
    assert current["editable"] is True and current["source"] == str(server.config)
    assert current["settings"]["imaging"]["anonymize_secret"] == "********"
    assert current["settings"]["dicom"]["port"] == server.dicom_port
    assert requests.get(url, auth=("op", "op-password"), timeout=10).status_code == 403
    change = {"changes": {"dicom": {"max_associations": 64},
                          "logging": {"levels": {"writer": "DEBUG"}}}}  # fmt: skip
    done = requests.put(url, json=change, auth=ADMIN, timeout=10).json()
    assert done == {
        "applied_now": ["logging.levels"],
        "restart_required": ["dicom.max_associations"],
    }
    written = tomllib.loads(server.config.read_text())
    assert written["dicom"]["max_associations"] == 64
    assert written["logging"]["levels"] == {"writer": "DEBUG"}
    assert written["dicom"]["port"] == server.dicom_port  # the rest kept
    bad = requests.put(url, json={"changes": {"dicom": {"max_associations": -1, "ae_titel": "X"}}},
                       auth=ADMIN, timeout=10)  # fmt: skip
    assert bad.status_code == 400
    detail = bad.json()["detail"]
    assert "max_associations" in detail and "ae_titel" in detail
    assert tomllib.loads(server.config.read_text())["dicom"]["max_associations"] == 64
    fixed = requests.put(url, json={"changes": {"database": {"url": "sqlite:///x.db"}}},
                         auth=ADMIN, timeout=10)  # fmt: skip
    assert fixed.status_code == 400
    server.stop()
    server.start()  # the file it wrote starts a server
    again = requests.get(url, auth=ADMIN, timeout=10).json()
    assert again["settings"]["dicom"]["max_associations"] == 64
