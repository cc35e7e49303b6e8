"""Logs and the audit log in the REST API.

Who may do what: every account reads the log levels; administrators and operators (who run the
archive) list, read and download log files, which name accounts and client addresses;
administrators change levels, delete log files and read the audit log. Level changes and
deletions are audited.

Levels apply at once in the main process and reach the DICOM workers within a second
(`pacs.logs.runtime`); they last until the server restarts. A file a process of this server is
writing (``pacs.jsonl``, ``pacs-workerN.jsonl``) is not deleted (409): it still receives what is
happening now, and truncating it under processes that append to it would lose the record of the
moment; its rotated predecessors (``pacs.jsonl.1``, ...) hold the history to prune."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import trio
from pydantic import BaseModel, Field, field_validator
from quart import Blueprint, Response, request, send_file
from quart_schema import validate_querystring, validate_request, validate_response

from pacs.auth import audit
from pacs.auth.accounts import Principal
from pacs.http.auth import principal, require_admin
from pacs.http.problems import HttpProblem
from pacs.http.services import WebServices
from pacs.logs import files, runtime, services


class LogFileItem(BaseModel):
    name: str
    size: int
    modified: dt.datetime
    active: bool = Field(description="being written by a process of this server (not deletable)")


class EntryQuery(BaseModel):
    tail: int = Field(200, ge=1, le=10000, description="at most this many entries, the newest")
    level: str | None = Field(None, description="this level or above: DEBUG ... CRITICAL")
    q: str | None = Field(None, max_length=200, description="text in the message (any case)")

    @field_validator("level")
    @classmethod
    def known_level(cls, value: str | None) -> str | None:
        return None if value is None else services.level_name(value)


class LogEntries(BaseModel):
    name: str
    entries: list[dict[str, Any]] = Field(description="oldest first: ts, level, logger, msg, ...")


class LevelChange(BaseModel):
    service: str = Field(description=", ".join(services.SERVICES))
    level: str = Field(description=", ".join(services.LEVELS))

    @field_validator("level")
    @classmethod
    def known_level(cls, value: str) -> str:
        return services.level_name(value)

    @field_validator("service")
    @classmethod
    def known_service(cls, value: str) -> str:
        if value not in services.SERVICES:
            raise ValueError(f"unknown service: one of {', '.join(services.SERVICES)}")
        return value


class LogDeleted(BaseModel):
    name: str
    bytes: int


class AuditQuery(BaseModel):
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0)


class AuditPage(BaseModel):
    limit: int
    offset: int
    items: list[audit.Entry]


def _reader() -> Principal:
    who = principal()
    if not who.may_write:
        raise HttpProblem(403, f"{who.username!r} ({who.role}) may not read the server logs")
    return who


async def _file_call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn`` in a thread, its errors as problem responses."""
    try:
        return await trio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))
    except files.BadName as exc:
        raise HttpProblem(400, str(exc)) from None
    except files.Missing as exc:
        raise HttpProblem(404, str(exc)) from None
    except files.Busy as exc:
        raise HttpProblem(409, str(exc)) from None


async def _note(web: WebServices, who: Principal, action: str, target: str, detail: str) -> None:
    record = functools.partial(
        audit.record, web.engine, who.username, action, target,
        detail=detail, address=request.remote_addr or "",
    )  # fmt: skip
    await trio.to_thread.run_sync(record)


def blueprint(web: WebServices) -> Blueprint:
    bp = Blueprint("api_logs", __name__, url_prefix="/api")
    _levels(bp, web)
    _files(bp, web)

    @bp.get("/audit")
    @validate_querystring(AuditQuery)
    @validate_response(AuditPage)
    async def audit_log(query_args: AuditQuery) -> AuditPage:
        """Logins, changes and deletions, newest first (administrators)."""
        require_admin()
        found = await trio.to_thread.run_sync(
            functools.partial(
                audit.recent, web.engine, limit=query_args.limit, offset=query_args.offset
            ),
            limiter=web.limits.db_read,
        )
        return AuditPage(limit=query_args.limit, offset=query_args.offset, items=found)

    return bp


def _levels(bp: Blueprint, web: WebServices) -> None:
    run = runtime.run_dir(web.settings.logging.dir)

    @bp.get("/logs/levels")
    @validate_response(dict[str, str])
    async def get_levels() -> dict[str, str]:
        """Each service's log level."""
        principal()
        return services.current()

    @bp.put("/logs/levels")
    @validate_request(LevelChange)
    @validate_response(dict[str, str])
    async def put_level(data: LevelChange) -> dict[str, str]:
        """Set a service's log level now, in every process (administrators); it lasts until
        the server restarts."""
        who = require_admin()
        before = await runtime.change(run, data.service, data.level)
        await _note(web, who, "log_level", data.service, f"{before} -> {data.level}")
        return services.current()


def _files(bp: Blueprint, web: WebServices) -> None:
    folder = web.settings.logging.dir

    @bp.get("/logs")
    @validate_response(list[LogFileItem])
    async def list_logs() -> list[LogFileItem]:
        """The log files, newest first (administrators and operators)."""
        _reader()
        listing = functools.partial(files.listing, folder, workers=web.settings.dicom.workers)
        found = await trio.to_thread.run_sync(listing)
        return [
            LogFileItem(name=f.name, size=f.size, modified=f.modified, active=f.active)
            for f in found
        ]

    @bp.get("/logs/<name>")
    @validate_querystring(EntryQuery)
    @validate_response(LogEntries)
    async def read_log(name: str, query_args: EntryQuery) -> LogEntries:
        """The last entries of a log file, filtered by level and text."""
        _reader()
        path = await _file_call(files.locate, folder, name)
        found = await _file_call(
            files.entries, path, tail=query_args.tail, level=query_args.level, text=query_args.q
        )
        return LogEntries(name=name, entries=found)

    @bp.get("/logs/<name>/download")
    async def download_log(name: str) -> Response:
        """A log file as it is (JSON lines)."""
        _reader()
        path = await _file_call(files.locate, folder, name)
        response = await send_file(
            path, mimetype="application/x-ndjson", as_attachment=True, cache_timeout=0
        )
        response.cache_control.public = False
        response.cache_control.no_store = True
        return response

    @bp.delete("/logs/<name>")
    @validate_response(LogDeleted)
    async def delete_log(name: str) -> LogDeleted:
        """Delete a log file that no process writes to (administrators)."""
        who = require_admin()
        size = await _file_call(files.delete, folder, name, workers=web.settings.dicom.workers)
        await _note(web, who, "log_delete", name, f"{size} bytes")
        return LogDeleted(name=name, bytes=size)
