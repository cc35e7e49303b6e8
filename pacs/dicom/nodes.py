"""Remote DICOM nodes: those of the configuration file (read-only) and those added at run time
(kept in the index database). Thread-only reads; a short cache keeps association threads off
the database, so a change reaches every process within seconds."""

from __future__ import annotations

import threading
import time
from typing import Any

import attrs
from sqlalchemy import Engine, Table, delete, insert, select, update

from pacs.auth.schema import RemoteNode
from pacs.errors import PacsError
from pacs.settings import NodeSettings
from pacs.settings_checks import OPERATIONS, ae_title, port

NODE: Table = RemoteNode.__table__  # type: ignore[attr-defined]
REFRESH = 5.0  # seconds a process keeps its copy of the stored nodes


class NodeError(PacsError):
    """A node the server refuses: a bad field, a name or AE title already taken."""

    http_status = 400


@attrs.frozen(kw_only=True)
class Node:
    name: str
    ae_title: str
    host: str
    port: int
    allow: tuple[str, ...]
    description: str = ""
    source: str = "database"  # or "config": from the configuration file, read-only

    def settings(self) -> NodeSettings:
        return NodeSettings(name=self.name, ae_title=self.ae_title, host=self.host,
                            port=self.port, allow=self.allow)  # fmt: skip


def check(node: Node) -> None:
    problems = [f"ae_title: {bad}" for bad in [ae_title(node.ae_title)] if bad] + [
        f"port: {bad}" for bad in [port(node.port)] if bad
    ]
    if not node.name.strip() or len(node.name) > 64:
        problems.append("name: 1 to 64 characters")
    if not node.host.strip() or any(c.isspace() for c in node.host):
        problems.append("host: a host name or address")
    unknown = sorted(set(node.allow) - set(OPERATIONS))
    if unknown:
        problems.append(f"allow: unknown operations {unknown} (known: {', '.join(OPERATIONS)})")
    if problems:
        raise NodeError("; ".join(problems))


def _row(row: Any) -> Node:
    return Node(
        name=str(row.name),
        ae_title=str(row.ae_title),
        host=str(row.host),
        port=int(row.port),
        allow=tuple(a for a in str(row.allow).split(",") if a),
        description=str(row.description),
    )


def stored(engine: Engine) -> list[Node]:
    with engine.connect() as conn:
        return [_row(row) for row in conn.execute(select(NODE).order_by(NODE.c.name))]


def _values(node: Node) -> dict[str, object]:
    return {"name": node.name, "ae_title": node.ae_title, "host": node.host, "port": node.port,
            "allow": ",".join(node.allow), "description": node.description}  # fmt: skip


def save(engine: Engine, node: Node, configured: list[NodeSettings], *, new: bool) -> None:
    """Add (``new``) or replace a stored node; names and AE titles stay unique."""
    check(node)
    if any(c.name == node.name or c.ae_title == node.ae_title for c in configured):
        raise NodeError(f"{node.name!r} / {node.ae_title!r} is a node of the configuration file")
    with engine.begin() as conn:
        taken = conn.execute(
            select(NODE.c.name).where(NODE.c.ae_title == node.ae_title, NODE.c.name != node.name)
        ).first()
        if taken is not None:
            raise NodeError(f"AE title {node.ae_title!r} belongs to node {taken.name!r}")
        exists = conn.execute(select(NODE.c.name).where(NODE.c.name == node.name)).first()
        if new and exists:
            raise NodeError(f"a node named {node.name!r} exists")
        if not new and not exists:
            raise NodeError(f"no node named {node.name!r}")
        if new:
            conn.execute(insert(NODE).values(**_values(node)))
        else:
            conn.execute(update(NODE).where(NODE.c.name == node.name).values(**_values(node)))


def remove(engine: Engine, name: str) -> bool:
    with engine.begin() as conn:
        return bool(conn.execute(delete(NODE).where(NODE.c.name == name)).rowcount)


@attrs.define
class NodeBook:
    """Who a calling AE or a move destination is: configured nodes first, then stored ones
    (re-read at most every `REFRESH` seconds). Safe to share between threads."""

    engine: Engine | None
    configured: tuple[NodeSettings, ...]
    _cached: tuple[float, tuple[NodeSettings, ...]] = (0.0, ())
    _lock: threading.Lock = attrs.field(factory=threading.Lock)

    def find(self, ae: str) -> NodeSettings | None:
        wanted = ae.strip()
        for node in (*self.configured, *self._stored()):
            if node.ae_title == wanted:
                return node
        return None

    def _stored(self) -> tuple[NodeSettings, ...]:
        if self.engine is None:
            return ()
        with self._lock:
            at, nodes = self._cached
            if time.monotonic() - at > REFRESH:
                nodes = tuple(node.settings() for node in stored(self.engine))
                self._cached = (time.monotonic(), nodes)
            return nodes
