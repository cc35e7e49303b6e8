"""The HTTP edge's accounts and cross-origin rules, against a real server."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import requests

from tests.conftest import Server

ORIGIN = "https://viewer.example.org"


def test_default_admin_must_change_its_password(make_server: object) -> None:
    server: Server = make_server().start()  # type: ignore[operator]
    session = requests.Session()
    login = session.post(
        f"{server.url}/api/auth/login", json={"username": "admin", "password": "admin"}, timeout=10
    )
    assert login.status_code == 200
    assert login.json()["must_change"] is True
    blocked = session.get(f"{server.url}/dicomweb/studies", timeout=10)
    assert blocked.status_code == 403
    assert "/api/auth/password" in blocked.json()["detail"]

    def change(current: str, new: str, csrf: bool = True) -> requests.Response:
        headers = {"X-CSRF-Token": session.cookies["pacs_csrf"]} if csrf else {}
        return session.post(
            f"{server.url}/api/auth/password",
            json={"current_password": current, "new_password": new},
            headers=headers,
            timeout=10,
        )

    forged = change("admin", "a-good-password", csrf=False)  # what another site's page could send
    assert forged.status_code == 403
    assert "X-CSRF-Token" in forged.json()["detail"]
    weak = change("admin", "short")
    assert weak.status_code == 400
    assert "8 characters" in weak.json()["detail"]
    assert change("nope", "a-good-password").status_code == 403
    assert change("admin", "a-good-password").status_code == 200
    # every session of the account ended with the change
    assert session.get(f"{server.url}/dicomweb/studies", timeout=10).status_code == 401
    basic = requests.get(
        f"{server.url}/dicomweb/studies", auth=("admin", "a-good-password"), timeout=10
    )
    assert basic.status_code == 200
    assert basic.json() == []
    old = requests.get(f"{server.url}/dicomweb/studies", auth=("admin", "admin"), timeout=10)
    assert old.status_code == 401
    with sqlite3.connect(server.home / "index.db") as db:
        [(stored,)] = db.execute("SELECT password_hash FROM account WHERE username='admin'")
    assert stored.startswith("$argon2id$") and "a-good-password" not in stored
    assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200


def test_cors_for_configured_origins(make_server: object) -> None:
    server: Server = make_server(http={"cors_origins": [ORIGIN]}).start()  # type: ignore[operator]
    server.add_user("viewer", "viewer-password")
    preflight = requests.options(
        f"{server.url}/dicomweb/studies",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
        timeout=10,
    )
    assert preflight.status_code in (200, 204)
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert preflight.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    real = requests.get(
        f"{server.url}/dicomweb/studies",
        headers={"Origin": ORIGIN},
        auth=("viewer", "viewer-password"),
        timeout=10,
    )
    assert real.headers["Access-Control-Allow-Origin"] == ORIGIN
    other = requests.get(
        f"{server.url}/dicomweb/studies",
        headers={"Origin": "https://evil.example.com"},
        auth=("viewer", "viewer-password"),
        timeout=10,
    )
    assert "Access-Control-Allow-Origin" not in other.headers


def test_cors_wildcard_never_allows_credentials(make_server: object) -> None:
    server: Server = make_server(http={"cors_origins": ["*"]}).start()  # type: ignore[operator]
    response = requests.get(
        f"{server.url}/healthz", headers={"Origin": "https://any.example.net"}, timeout=10
    )
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers


def _cli(server: Server, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pacs", "user", *args, "--config", str(server.config)],
        capture_output=True, text=True, check=True, cwd=server.home,
    )  # fmt: skip
    return done.stdout


def test_api_tokens_from_the_cli(make_server: object) -> None:
    server: Server = make_server().start()  # type: ignore[operator]
    server.add_user("script", "script-password", role="operator")
    token = _cli(server, "token", "script", "--name", "nightly export").strip()
    assert token.startswith("pacs_")
    bearer = {"Authorization": f"Bearer {token}"}
    assert requests.get(f"{server.url}/dicomweb/studies", headers=bearer, timeout=10).ok
    other = _cli(server, "token", "script", "--name", "spare").strip()
    listed = _cli(server, "token", "script", "--list")
    assert "nightly export" in listed and "spare" in listed and token not in listed
    spare_id = next(line.split("\t")[0] for line in listed.splitlines() if "spare" in line)
    assert "revoked" in _cli(server, "token", "script", "--revoke", spare_id)
    refused = requests.get(
        f"{server.url}/dicomweb/studies", headers={"Authorization": f"Bearer {other}"}, timeout=10
    )
    assert refused.status_code == 401
    assert "spare" not in _cli(server, "token", "script", "--list")
    assert "script\toperator" in _cli(server, "list")


def test_failed_logins_are_throttled_and_audited(make_server: object) -> None:
    server: Server = make_server().start()  # type: ignore[operator]
    server.add_user("someone", "right-password")
    url = f"{server.url}/api/auth/login"
    for _ in range(5):
        wrong = requests.post(url, json={"username": "someone", "password": "x"}, timeout=10)
        assert wrong.status_code == 401
    blocked = requests.post(
        url, json={"username": "someone", "password": "right-password"}, timeout=10
    )
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    other = requests.post(url, json={"username": "admin", "password": "admin"}, timeout=10)
    assert other.status_code == 200  # another account is not held back
    malformed = requests.post(url, json={"username": ""}, timeout=10)
    assert malformed.status_code == 400
    assert "password" in malformed.json()["detail"]
    with sqlite3.connect(server.home / "index.db") as db:
        actions = [row[0] for row in db.execute("SELECT action FROM audit ORDER BY id")]
    assert actions.count("login_failed") == 5 and actions[-1] == "login"
