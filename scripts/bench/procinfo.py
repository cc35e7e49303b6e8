"""Linux /proc helpers: process trees, RSS / peak RSS (VmHWM) and CPU time of a receiver."""

from __future__ import annotations

import os
import threading
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    return raw[raw.rindex(")") + 2 :].split()  # fields from 3 (state) on


def tree(root: int) -> list[int]:
    """``root`` and all its live descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            ppid = int(_stat_fields(int(entry.name))[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def status_kb(pid: int, field: str) -> int:
    """A ``kB`` field of /proc/<pid>/status (VmRSS, VmHWM); 0 if the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_kb(root: int, field: str) -> int:
    return sum(status_kb(pid, field) for pid in tree(root))


def reset_hwm(root: int) -> bool:
    """Reset VmHWM of the whole tree (write 5 to clear_refs); False if any process refused."""
    try:
        for pid in tree(root):
            Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def cpu_seconds(root: int) -> float:
    """user+system CPU of the tree, including reaped children of the root."""
    total = 0
    for pid in tree(root):
        try:
            fields = _stat_fields(pid)
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
        if pid == root:
            total += int(fields[13]) + int(fields[14])  # cutime, cstime
    return total / TICK


class RssSampler(threading.Thread):
    """Samples the tree's summed VmRSS every ``interval`` seconds; ``peak_kb`` is the maximum."""

    def __init__(self, root: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.peak_kb = 0
        self._halt = threading.Event()

    def run(self) -> None:
        pids, n = tree(self.root), 0
        while not self._halt.is_set():
            if n % 20 == 0:
                pids = tree(self.root)
            self.peak_kb = max(self.peak_kb, sum(status_kb(p, "VmRSS") for p in pids))
            n += 1
            self._halt.wait(self.interval)

    def stop(self) -> int:
        self._halt.set()
        self.join()
        return self.peak_kb
