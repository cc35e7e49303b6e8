"""Shared fixtures: a real server process on free ports, PostgreSQL when reachable, DCMTK."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``pacs serve`` in a subprocess with its own storage, index and logs."""

    def __init__(
        self,
        home: Path,
        db_url: str | None = None,
        **sections: dict[str, object] | list[dict[str, object]],
    ):
        self.home = home
        self.dicom_port = free_port()
        self.http_port = free_port()
        self.db_url = db_url or f"sqlite:///{home / 'index.db'}"
        self.config = home / "pacs.toml"
        self.sections = sections
        self.proc: subprocess.Popen[bytes] | None = None
        self.write_config()

    def write_config(self) -> None:
        base: dict[str, dict[str, object]] = {
            "dicom": {"port": self.dicom_port, "host": "127.0.0.1"},
            "http": {"port": self.http_port, "host": "127.0.0.1"},
            "storage": {"path": str(self.home / "storage")},
            "database": {"url": self.db_url},
            "logging": {"dir": str(self.home / "logs"), "level": "DEBUG"},
        }
        arrays: dict[str, list[dict[str, object]]] = {}
        for name, values in self.sections.items():
            if isinstance(values, list):  # an array of tables, e.g. nodes=[{...}] → [[nodes]]
                arrays[name] = values
            else:
                base.setdefault(name, {}).update(values)
        lines = []
        for name, values in base.items():
            lines.append(f"[{name}]")
            lines.extend(f"{k} = {_toml(v)}" for k, v in values.items())
        for name, tables in arrays.items():
            for table in tables:
                lines.append(f"[[{name}]]")
                lines.extend(f"{k} = {_toml(v)}" for k, v in table.items())
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")

    @property
    def storage(self) -> Path:
        return self.home / "storage"

    @property
    def log_text(self) -> str:
        path = self.home / "server.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def start(self, timeout: float = 30.0) -> Server:
        log = open(self.home / "server.log", "ab")  # noqa: SIM115 (kept for the process)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pacs", "serve", "--config", str(self.config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.home,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}:\n{self.log_text}")
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.http_port}/healthz", timeout=1
                ):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not become ready:\n{self.log_text}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def store_folder(self, folder: Path) -> None:
        """DCMTK storescu of a whole folder, recursively; fails the test unless all succeed."""
        dcmtk(
            "storescu", "-aec", "PACS", "+sd", "+r", "127.0.0.1", str(self.dicom_port), str(folder)
        )

    def expect_local_limit(self) -> None:
        """An echo is refused with A-ASSOCIATE-RJ 'local limit exceeded'."""
        refused = dcmtk(
            "echoscu", "-v", "-aec", "PACS", "127.0.0.1", str(self.dicom_port), check=False
        )
        assert refused.returncode != 0
        assert "Local Limit Exceeded" in refused.stdout + refused.stderr

    def add_user(self, username: str, password: str, role: str = "viewer") -> None:
        """An account for the HTTP edge, made with the CLI (the server may be running)."""
        subprocess.run(
            [sys.executable, "-m", "pacs", "user", "add", username, "--role", role,
             "--password-stdin", "--config", str(self.config)],
            input=password + "\n", text=True, check=True, capture_output=True, cwd=self.home,
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def files(self) -> list[Path]:
        return sorted(p for p in self.storage.rglob("*.dcm") if ".spool" not in p.parts)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[object]:
    servers: list[Server] = []

    def factory(
        db_url: str | None = None, **sections: dict[str, object] | list[dict[str, object]]
    ) -> Server:
        home = tmp_path / f"srv{len(servers)}"
        home.mkdir()
        server = Server(home, db_url, **sections)
        servers.append(server)
        return server

    yield factory
    for server in servers:
        if server.proc is not None and server.proc.poll() is None:
            server.kill()


@pytest.fixture
def server(make_server: object) -> Server:
    return make_server().start()  # type: ignore[operator, no-any-return]


def _pg_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every index test runs on SQLite and on PostgreSQL (a fresh database per test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'index.db'}"
        return
    if not _pg_reachable():
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    import psycopg

    name = f"pacs_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def require_dcmtk() -> None:
    if shutil.which("storescu") is None:
        pytest.fail("DCMTK is missing: scripts/test installs it (apt-get install dcmtk)")


def dcmtk(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    require_dcmtk()
    env = {**os.environ, "TCP_NODELAY": "1"}
    proc = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def send_file(port: int, path: Path, *, calling: str = "PYNETDICOM") -> int:
    """Send one Part 10 file with pynetdicom, proposing exactly its transfer syntax; return the
    C-STORE status (or raise when the association fails)."""
    from pydicom import dcmread
    from pynetdicom import AE

    ds = dcmread(path)
    ae = AE(ae_title=calling)
    ae.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
    assoc = ae.associate("127.0.0.1", port, ae_title="PACS")
    assert assoc.is_established, "association was not accepted"
    try:
        status = assoc.send_c_store(ds)
        return int(status.Status)
    finally:
        assoc.release()
