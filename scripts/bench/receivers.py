"""The three receivers under test, each started fresh on free loopback ports in its own folder.

``running(kind, base, ...)`` starts one, waits until it answers C-ECHO (pacs: /healthz first),
yields a `Receiver` and always stops it by PID and deletes its folder afterwards.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from procinfo import tree
from pynetdicom import AE
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parents[1]
STORESCP = "/usr/bin/storescp"  # not .venv/bin/storescp, which is pynetdicom's app
PACS = str(REPO / ".venv" / "bin" / "pacs")
LABELS = {
    "storescp": "dcmtk-storescp",
    "bare": "bare-pynetdicom",
    "durable": "bare-durable",
    "pacs": "pacs",
}


class ReceiverError(RuntimeError):
    """The receiver did not start or did not become ready."""


@dataclass
class Receiver:
    kind: str
    ae_title: str
    port: int
    workdir: Path
    storage: Path
    proc: subprocess.Popen[bytes]

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    def files(self) -> list[Path]:
        """Stored objects: every file for storescp, ``*.dcm`` outside ``.spool`` otherwise."""
        pattern = "*" if self.kind == "storescp" else "*.dcm"
        return [p for p in self.storage.rglob(pattern) if p.is_file() and ".spool" not in p.parts]

    def log_tail(self, lines: int = 15) -> str:
        log = self.workdir / "receiver.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        return "\n".join("    | " + line for line in text.splitlines()[-lines:])


def free_port(avoid: tuple[int, ...] = ()) -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in avoid:
            return port


def _spawn(cmd: list[str], workdir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TCP_NODELAY": "1"}
    with (workdir / "receiver.log").open("wb") as log:
        return subprocess.Popen(
            cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )


def _start_storescp(workdir: Path, port: int, fork: bool) -> Receiver:
    storage = workdir / "storage"
    storage.mkdir()
    cmd = [STORESCP, "-aet", "STORESCP", "-pdu", "131072", "-dhl", "+xa", "-od", str(storage)]
    cmd += ["--fork"] if fork else []
    proc = _spawn([*cmd, str(port)], workdir)
    return Receiver("storescp", "STORESCP", port, workdir, storage, proc)


def _start_bare(workdir: Path, port: int, *, durable: bool = False) -> Receiver:
    storage = workdir / "storage"
    script = str(BENCH / "bare_scp.py")
    cmd = [sys.executable, script, "--port", str(port), "--dir", str(storage), "--ae", "BARE"]
    kind = "durable" if durable else "bare"
    cmd += ["--durable"] if durable else []
    return Receiver(kind, "BARE", port, workdir, storage, _spawn(cmd, workdir))


def pacs_config(workdir: Path, dicom_port: int, http_port: int) -> Path:
    config = workdir / "pacs.toml"
    config.write_text(
        f'[dicom]\nae_title = "PACS"\nhost = "127.0.0.1"\nport = {dicom_port}\n\n'
        f'[http]\nhost = "127.0.0.1"\nport = {http_port}\n\n'
        f'[storage]\npath = "{workdir / "storage"}"\n\n'
        f'[database]\nurl = "sqlite:///{workdir / "index.db"}"\n\n'
        f'[logging]\ndir = "{workdir / "logs"}"\nlevel = "WARNING"\n'
    )
    return config


def _start_pacs(workdir: Path, port: int, http_port: int, pacs_cmd: str) -> Receiver:
    cmd = shlex.split(pacs_cmd)
    if not shutil.which(cmd[0]):
        raise ReceiverError(f"{cmd[0]} not found (pip install -e . ?)")
    config = pacs_config(workdir, port, http_port)
    proc = _spawn([*cmd, "serve", "--config", str(config)], workdir)
    return Receiver("pacs", "PACS", port, workdir, workdir / "storage", proc)


def echo(port: int, ae_title: str) -> bool:
    ae = AE(ae_title="BENCHSCU")
    ae.add_requested_context(Verification)
    ae.acse_timeout = ae.network_timeout = ae.dimse_timeout = 5
    assoc = ae.associate("127.0.0.1", port, ae_title=ae_title)
    if not assoc.is_established:
        return False
    status = assoc.send_c_echo()
    assoc.release()
    return bool(status) and status.Status == 0x0000


def _healthz(http_port: int) -> bool:
    url = f"http://127.0.0.1:{http_port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def _wait_ready(rcv: Receiver, timeout: float, http_port: int | None) -> None:
    deadline = time.monotonic() + timeout
    ready = http_port is None
    while time.monotonic() < deadline:
        if rcv.proc.poll() is not None:
            raise ReceiverError(f"{rcv.label} exited with code {rcv.proc.returncode}")
        if not ready:
            ready = _healthz(http_port)  # type: ignore[arg-type]
        elif echo(rcv.port, rcv.ae_title):
            return
        time.sleep(0.2)
    what = "C-ECHO" if ready else f"GET /healthz on port {http_port}"
    raise ReceiverError(f"{rcv.label} not ready after {timeout:.0f} s ({what} failed)")


def stop(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM the process by PID, wait, SIGKILL if it does not go."""
    deadline = time.monotonic() + 5  # let forked storescp children finish first (no orphans)
    while proc.poll() is None and len(tree(proc.pid)) > 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    if proc.poll() is None:
        with suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def running(
    kind: str,
    base: Path,
    *,
    storescp_fork: bool = True,
    keep: bool = False,
    pacs_cmd: str = PACS,
    timeout: float = 30,
) -> Iterator[Receiver]:
    base.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=base))
    port = free_port()
    http_port = free_port(avoid=(port,)) if kind == "pacs" else None
    rcv: Receiver | None = None
    try:
        if kind == "storescp":
            rcv = _start_storescp(workdir, port, storescp_fork)
        elif kind in ("bare", "durable"):
            rcv = _start_bare(workdir, port, durable=kind == "durable")
        else:
            rcv = _start_pacs(workdir, port, http_port or 0, pacs_cmd)
        try:
            _wait_ready(rcv, timeout, http_port)
        except ReceiverError as exc:
            raise ReceiverError(f"{exc}\n  receiver log tail:\n{rcv.log_tail()}") from None
        yield rcv
    finally:
        if rcv is not None:
            stop(rcv.proc)
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
