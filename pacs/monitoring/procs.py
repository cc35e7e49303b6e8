"""CPU time and memory of the server's processes, read from /proc (Linux). Thread-only.

The server is this process and its children: the DICOM workers (``pacs worker --worker-id N``)
and helpers (the imaging pool's processes). Where /proc cannot be read, only this process is
reported, from `resource`."""

from __future__ import annotations

import os
import resource
from pathlib import Path

import attrs

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@attrs.frozen(kw_only=True)
class ProcessStat:
    pid: int
    role: str  # main, dicom-worker-N, helper
    cpu_seconds: float
    rss_bytes: int


def _stat(pid: int) -> tuple[int, float, int] | None:
    """(parent pid, CPU seconds, resident bytes) of ``pid``."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()  # after "pid (comm) "
    try:
        ppid = int(fields[1])
        cpu = (int(fields[11]) + int(fields[12])) / TICKS
        rss = int(fields[21]) * PAGE
    except (IndexError, ValueError):
        return None
    return ppid, cpu, rss


def _role(pid: int) -> str:
    try:
        args = (PROC / str(pid) / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return "helper"
    if b"worker" in args and b"--worker-id" in args:
        at = args.index(b"--worker-id") + 1
        if at < len(args):
            return f"dicom-worker-{args[at].decode(errors='replace')}"
    return "helper"


def _children(pid: int) -> list[int]:
    tasks = PROC / str(pid) / "task"
    if not (tasks / str(pid) / "children").exists():  # a kernel without them: scan /proc
        return [p for p in _all_pids() if (stat := _stat(p)) is not None and stat[0] == pid]
    found: set[int] = set()
    for task in tasks.iterdir():  # a child belongs to the thread that started it
        try:
            text = (task / "children").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        found.update(int(child) for child in text.split())
    return sorted(found)


def _all_pids() -> list[int]:
    return [int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit()]


def server_processes() -> list[ProcessStat]:
    """This process first, then its children."""
    me = os.getpid()
    own = _stat(me)
    if own is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return [
            ProcessStat(
                pid=me,
                role="main",
                cpu_seconds=usage.ru_utime + usage.ru_stime,
                rss_bytes=usage.ru_maxrss * 1024,
            )
        ]
    found = [ProcessStat(pid=me, role="main", cpu_seconds=own[1], rss_bytes=own[2])]
    for pid in _children(me):
        stat = _stat(pid)
        if stat is not None:
            found.append(
                ProcessStat(pid=pid, role=_role(pid), cpu_seconds=stat[1], rss_bytes=stat[2])
            )
    return found
