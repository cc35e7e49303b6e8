"""Settings in the REST API: the effective settings (secrets masked), and changes written back
to the configuration file after the same validation `pacs config check` does. Logging levels
apply at once; every other change takes effect at the next start, and the answer says which."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import attrs
import tomli_w
import trio
from pydantic import BaseModel, Field
from quart import Blueprint, request
from quart_schema import validate_request, validate_response
from sqlalchemy.engine import make_url

from pacs.auth import audit
from pacs.errors import SettingsError
from pacs.http.auth import require_admin
from pacs.http.problems import HttpProblem
from pacs.http.services import WebServices
from pacs.logs import runtime, services
from pacs.logs.setup import logger_name
from pacs.settings import SECTION_TYPES, Settings, load

MASK = "********"
FIXED = ("database",)  # where the index lives cannot change under a running server
LIVE = {("logging", "level"), ("logging", "levels")}


class SettingsView(BaseModel):
    source: str
    editable: bool
    settings: dict[str, dict[str, Any]]


class SettingsChange(BaseModel):
    changes: dict[str, dict[str, Any]] = Field(
        description='section -> key -> new value, e.g. {"dicom": {"max_associations": 64}}'
    )


class SettingsChanged(BaseModel):
    applied_now: list[str]
    restart_required: list[str]


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def view(settings: Settings) -> dict[str, dict[str, Any]]:
    out = {
        name: {k: _plain(v) for k, v in attrs.asdict(getattr(settings, name)).items()}
        for name in SECTION_TYPES
    }
    out["database"]["url"] = make_url(settings.database.url).render_as_string(hide_password=True)
    if out["imaging"].get("anonymize_secret"):
        out["imaging"]["anonymize_secret"] = MASK
    return out


def write_changes(path: Path, changes: dict[str, dict[str, Any]]) -> None:
    """Thread-only: validate the file with ``changes`` merged in, then replace it atomically;
    SettingsError lists every problem."""
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    for section, values in changes.items():
        if section in FIXED or section not in SECTION_TYPES:
            raise SettingsError([f"[{section}]: cannot be changed from here"])
        document.setdefault(section, {}).update(values)
    fd, name = tempfile.mkstemp(dir=path.parent, suffix=".toml")
    try:
        with os.fdopen(fd, "wb") as out:
            tomli_w.dump(document, out)
        load(Path(name), environ={})
        os.replace(name, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def apply_logging(values: dict[str, Any], log_dir: Path) -> None:
    """Thread-only: the new levels now, here and (through the published levels) in the DICOM
    worker processes; a service name sets the service, any other name that logger."""
    if "level" in values:
        logging.getLogger().setLevel(str(values["level"]).upper())
    for name, level in dict(values.get("levels") or {}).items():
        if name in services.SERVICES:
            services.set_level(name, str(level))
        else:
            logging.getLogger(logger_name(name)).setLevel(str(level).upper())
    runtime.publish(runtime.run_dir(log_dir), services.current())


def blueprint(web: WebServices) -> Blueprint:
    bp = Blueprint("api_settings", __name__, url_prefix="/api")
    settings = web.settings
    path = Path(settings.source) if settings.source != "embedded defaults" else None

    @bp.get("/settings")
    @validate_response(SettingsView)
    async def get_settings() -> SettingsView:
        """The effective settings (administrators); secrets are masked."""
        require_admin()
        return SettingsView(source=settings.source, editable=path is not None,
                            settings=view(settings))  # fmt: skip

    @bp.put("/settings")
    @validate_request(SettingsChange)
    @validate_response(SettingsChanged)
    async def put_settings(data: SettingsChange) -> SettingsChanged:
        """Change settings (administrators): written to the configuration file."""
        who = require_admin()
        if path is None:
            raise HttpProblem(409, "pacs runs on its embedded defaults: start it with "
                              "--config FILE to change settings from here")  # fmt: skip
        try:
            await trio.to_thread.run_sync(write_changes, path, data.changes)
        except SettingsError as exc:
            raise HttpProblem(400, "; ".join(exc.problems)) from None
        keys = [(s, k) for s, values in data.changes.items() for k in values]
        if "logging" in data.changes:
            await trio.to_thread.run_sync(
                apply_logging, data.changes["logging"], settings.logging.dir
            )
        record = functools.partial(audit.record, web.engine, who.username, "settings_changed",
                                   str(path), detail=", ".join(f"{s}.{k}" for s, k in keys),
                                   address=request.remote_addr or "")  # fmt: skip
        await trio.to_thread.run_sync(record)
        return SettingsChanged(
            applied_now=[f"{s}.{k}" for s, k in keys if (s, k) in LIVE],
            restart_required=[f"{s}.{k}" for s, k in keys if (s, k) not in LIVE],
        )

    return bp
