"""Configure logging once per process from ``[logging]``.

Loggers are named ``pacs.<module>`` (writer, indexer, dicom.store, http, ...); `pacs.logs.services`
groups them into services (storage, query-retrieve, http, ...). ``levels`` sets a level per
service (``storage = "DEBUG"``) or per logger (``writer = "DEBUG"`` is ``pacs.writer``); third-party
names such as ``pynetdicom`` are taken as is; a service's level never leaks into another through
the hierarchy. Levels change at run time through `pacs.logs.runtime`. Files: ``<dir>/pacs.jsonl``
(DICOM worker N: ``pacs-workerN.jsonl``) rotated by size, one JSON object per line."""

from __future__ import annotations

import datetime as dt
import json
import logging
import logging.handlers
import sys
from typing import Any

from pacs.logs import services
from pacs.settings import LoggingSettings

THIRD_PARTY = ("pynetdicom", "hypercorn", "sqlalchemy", "quart")


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "thread": record.threadName,
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def logger_name(service: str) -> str:
    if service.startswith("pacs") or service.split(".", maxsplit=1)[0] in THIRD_PARTY:
        return service
    return f"pacs.{service}"


def configure(
    settings: LoggingSettings,
    *,
    console: bool = True,
    files: bool = True,
    file_name: str = "pacs.jsonl",
) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(settings.level.upper())
    if console:
        out = logging.StreamHandler(sys.stderr)
        out.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        )
        root.addHandler(out)
    if files:
        settings.dir.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            settings.dir / file_name,
            maxBytes=settings.max_bytes,
            backupCount=settings.backups,
            encoding="utf-8",
        )
        handler.setFormatter(JsonLines())
        root.addHandler(handler)
    # pynetdicom narrates every PDU at INFO; keep it quiet unless asked.
    services.set_level("pynetdicom", "WARNING")
    for name, level in settings.levels.items():
        if name in services.SERVICES:
            services.set_level(name, level)
        else:
            logging.getLogger(logger_name(name)).setLevel(level.upper())
