"""Accounts and API tokens through the REST API: administrators manage accounts, everyone their
own tokens; each change takes effect at once and is audited."""

from __future__ import annotations

import sqlite3

import pytest
import requests

from tests.conftest import Server

BOSS = ("boss", "boss-password")


@pytest.fixture
def server(make_server: object) -> Server:
    server: Server = make_server().start()  # type: ignore[operator]
    server.add_user(*BOSS, role="admin")
    server.add_user("reader", "reader-password")
    return server


def _call(
    server: Server, method: str, path: str, auth: tuple[str, str] = BOSS, **kw: object
) -> requests.Response:
    return requests.request(method, f"{server.url}{path}", auth=auth, timeout=10, **kw)  # type: ignore[arg-type]


def test_administrators_manage_accounts(server: Server) -> None:
    listed = _call(server, "GET", "/api/users").json()
    assert {u["username"] for u in listed} == {"admin", "boss", "reader"}
    assert _call(server, "GET", "/api/users", auth=("reader", "reader-password")).status_code == 403
    tech = {"username": "tech", "password": "tech-password", "role": "operator"}
    made = _call(server, "POST", "/api/users", json=tech)
    assert made.status_code == 201 and made.json()["role"] == "operator"
    assert _call(server, "GET", "/dicomweb/studies", auth=("tech", "tech-password")).ok
    weak = _call(server, "POST", "/api/users", json={"username": "x", "password": "123"})
    assert weak.status_code == 400 and "8 characters" in weak.json()["detail"]
    duplicate = _call(server, "POST", "/api/users",
                      json={"username": "tech", "password": "tech-password"})  # fmt: skip
    assert duplicate.status_code == 400 and "exists" in duplicate.json()["detail"]
    change = {"role": "viewer", "password": "new-tech-password", "temporary": True}
    changed = _call(server, "PATCH", "/api/users/tech", json=change)
    assert changed.json() == {"username": "tech", "role": "viewer", "must_change": True}
    old = _call(server, "GET", "/dicomweb/studies", auth=("tech", "tech-password"))
    assert old.status_code == 401  # the old password no longer works, at once
    assert _call(server, "DELETE", "/api/users/tech").ok
    assert _call(server, "DELETE", "/api/users/tech").status_code == 404
    assert _call(server, "DELETE", "/api/users/boss").status_code == 400  # not oneself
    demote = _call(server, "PATCH", "/api/users/boss", json={"role": "viewer"})
    assert demote.status_code == 200  # admin/admin is an administrator too
    last = _call(server, "PATCH", "/api/users/admin", json={"role": "viewer"})
    assert last.status_code == 403  # admin/admin may do nothing before changing its password
    bad_role = _call(server, "POST", "/api/users",
                     json={"username": "y", "password": "long-enough", "role": "root"})  # fmt: skip
    assert bad_role.status_code == 400 and "role" in bad_role.json()["detail"]
    no_longer = _call(
        server, "POST", "/api/users", json={"username": "y", "password": "long-enough"}
    )
    assert no_longer.status_code == 403  # boss is no longer an administrator
    with sqlite3.connect(server.home / "index.db") as db:
        actions = [row[0] for row in db.execute("SELECT action FROM audit ORDER BY id")]
    assert actions == ["user_added", "user_changed", "user_deleted", "user_changed"]


def test_tokens_are_shown_once_and_revocable(server: Server) -> None:
    reader = ("reader", "reader-password")
    made = _call(server, "POST", "/api/tokens", auth=reader, json={"name": "export", "days": 30})
    assert made.status_code == 201
    token = made.json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert requests.get(f"{server.url}/dicomweb/studies", headers=bearer, timeout=10).ok
    mine = _call(server, "GET", "/api/tokens", auth=reader).json()
    assert [(t["name"], t["username"]) for t in mine] == [("export", "reader")]
    assert token not in str(mine) and mine[0]["last_used_at"] is not None
    assert _call(server, "GET", "/api/tokens?all=true", auth=reader).status_code == 403
    assert len(_call(server, "GET", "/api/tokens?all=true").json()) == 1
    other = _call(server, "DELETE", f"/api/tokens/{mine[0]['id']}", auth=("admin", "admin"))
    assert other.status_code == 403  # admin/admin must change its password first
    assert _call(server, "DELETE", f"/api/tokens/{mine[0]['id']}", auth=reader).ok
    assert (
        requests.get(f"{server.url}/dicomweb/studies", headers=bearer, timeout=10).status_code
        == 401
    )
    assert _call(server, "POST", "/api/tokens", auth=reader, json={"name": ""}).status_code == 400
