"""Remote DICOM nodes in the REST API: list (configured and added ones), add, change, remove
(administrators; audited), and a C-ECHO test of any node."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import TypeVar

import attrs
import trio
from pydantic import BaseModel, Field
from pynetdicom import AE
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]
from quart import Blueprint, request
from quart_schema import validate_request, validate_response

from pacs.auth import audit
from pacs.dicom import nodes
from pacs.http.auth import require_admin
from pacs.http.problems import HttpProblem
from pacs.http.services import WebServices
from pacs.settings_checks import OPERATIONS

T = TypeVar("T")
ECHO_TIMEOUT = 5.0


class NodeBody(BaseModel):
    ae_title: str = Field(min_length=1, max_length=16)
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(104, ge=1, le=65535)
    allow: list[str] = Field(default_factory=lambda: list(OPERATIONS))
    description: str = Field("", max_length=256)


class NewNode(NodeBody):
    name: str = Field(min_length=1, max_length=64)


class NodeOut(NewNode):
    source: str = Field(description="config (the configuration file, read-only) or database")


class EchoResult(BaseModel):
    ok: bool
    status: int | None
    ms: float
    detail: str


def _out(node: nodes.Node) -> NodeOut:
    fields = attrs.asdict(node)
    return NodeOut(**{**fields, "allow": list(node.allow)})


def echo(calling: str, node: nodes.Node) -> EchoResult:
    """Thread-only: one C-ECHO to ``node``."""
    ae = AE(ae_title=calling)
    ae.add_requested_context(Verification)
    for name in ("acse_timeout", "dimse_timeout", "network_timeout", "connection_timeout"):
        setattr(ae, name, ECHO_TIMEOUT)
    started = time.monotonic()
    assoc = ae.associate(node.host, node.port, ae_title=node.ae_title)
    if not assoc.is_established:
        why = "rejected" if assoc.is_rejected else "no answer or connection refused"
        ms = (time.monotonic() - started) * 1000
        return EchoResult(ok=False, status=None, ms=round(ms, 1), detail=f"association {why}")
    try:
        status = assoc.send_c_echo()
    finally:
        assoc.release()
    ms = round((time.monotonic() - started) * 1000, 1)
    code = int(status.Status) if status and "Status" in status else None
    return EchoResult(ok=code == 0, status=code, ms=ms,
                      detail="success" if code == 0 else "no valid answer to C-ECHO")  # fmt: skip


def blueprint(web: WebServices) -> Blueprint:
    bp = Blueprint("api_nodes", __name__, url_prefix="/api")
    engine, configured = web.engine, list(web.settings.nodes)

    async def run(fn: Callable[[], T]) -> T:
        try:
            return await trio.to_thread.run_sync(fn)
        except nodes.NodeError as exc:
            raise HttpProblem(400, exc.message) from None

    def every() -> list[nodes.Node]:
        from_file = [nodes.Node(name=n.name, ae_title=n.ae_title, host=n.host, port=n.port,
                                allow=n.allow, source="config") for n in configured]  # fmt: skip
        return from_file + nodes.stored(engine)

    async def note(action: str, name: str) -> None:
        who = require_admin()
        await run(functools.partial(audit.record, engine, who.username, action, name,
                                    address=request.remote_addr or ""))  # fmt: skip

    @bp.get("/nodes")
    @validate_response(list[NodeOut])
    async def list_nodes() -> list[NodeOut]:
        """Every remote node: from the configuration file and added ones."""
        return [_out(node) for node in await run(every)]

    @bp.post("/nodes")
    @validate_request(NewNode)
    @validate_response(NodeOut, 201)
    async def add_node(data: NewNode) -> tuple[NodeOut, int]:
        """Add a node (administrators)."""
        require_admin()
        node = nodes.Node(**{**data.model_dump(), "allow": tuple(data.allow)})
        await run(functools.partial(nodes.save, engine, node, configured, new=True))
        await note("node_added", node.name)
        return _out(node), 201

    @bp.put("/nodes/<name>")
    @validate_request(NodeBody)
    @validate_response(NodeOut)
    async def change_node(name: str, data: NodeBody) -> NodeOut:
        """Change an added node (administrators)."""
        require_admin()
        node = nodes.Node(name=name, **{**data.model_dump(), "allow": tuple(data.allow)})
        await run(functools.partial(nodes.save, engine, node, configured, new=False))
        await note("node_changed", name)
        return _out(node)

    @bp.delete("/nodes/<name>")
    async def delete_node(name: str) -> dict[str, str]:
        """Remove an added node (administrators)."""
        require_admin()
        if not await run(functools.partial(nodes.remove, engine, name)):
            raise HttpProblem(404, f"no added node named {name!r}")
        await note("node_deleted", name)
        return {"deleted": name}

    @bp.post("/nodes/<name>/echo")
    @validate_response(EchoResult)
    async def echo_node(name: str) -> EchoResult:
        """C-ECHO the node: is it reachable and does it accept us?"""
        found = next((n for n in await run(every) if n.name == name), None)
        if found is None:
            raise HttpProblem(404, f"no node named {name!r}")
        calling = web.settings.dicom.ae_title
        return await trio.to_thread.run_sync(echo, calling, found, limiter=web.limits.scu)

    return bp
