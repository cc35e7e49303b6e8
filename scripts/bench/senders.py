"""DCMTK storescu senders: N processes in parallel, one folder each, timed start to last exit."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

STORESCU = "/usr/bin/storescu"  # not .venv/bin/storescu, which is pynetdicom's app


@dataclass
class SendResult:
    wall: float
    returncodes: list[int]
    logs: list[Path]

    @property
    def ok(self) -> bool:
        return all(rc == 0 for rc in self.returncodes)

    def failure(self, lines: int = 10) -> str:
        out = []
        for rc, log in zip(self.returncodes, self.logs, strict=True):
            if rc != 0:
                tail = log.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"    storescu exit {rc} ({log.name}):")
                out += ["    | " + line for line in tail]
        return "\n".join(out)


def storescu_cmd(ae_title: str, port: int, folder: Path) -> list[str]:
    return [
        STORESCU, "-aet", "BENCHSCU", "-aec", ae_title, "-pdu", "131072",
        "+sd", "+r", "+sp", "*.dcm", "127.0.0.1", str(port), str(folder),
    ]  # fmt: skip


def send(
    ae_title: str, port: int, folders: list[Path], log_dir: Path, timeout: float = 3600
) -> SendResult:
    """Run one storescu per folder at once (TCP_NODELAY=1); wall time is first start → last exit."""
    env = {**os.environ, "TCP_NODELAY": "1"}
    logs = [log_dir / f"storescu-{i}.log" for i in range(len(folders))]
    procs: list[subprocess.Popen[bytes]] = []
    start = time.perf_counter()
    try:
        for folder, log in zip(folders, logs, strict=True):
            with log.open("wb") as out:
                cmd = storescu_cmd(ae_title, port, folder)
                procs.append(subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env))
        deadline = start + timeout
        codes = [p.wait(max(1.0, deadline - time.perf_counter())) for p in procs]
        wall = time.perf_counter() - start
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return SendResult(wall, codes, logs)
