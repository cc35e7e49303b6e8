"""Log records at ERROR or above: counted in every process (``pacs_errors_total{kind=
"log_<service>"}``) and, in the main process, the last ones kept in memory for the console."""

from __future__ import annotations

import collections
import datetime as dt
import logging
from typing import Any

from pacs.logs.services import service_of
from pacs.monitoring import metrics

KEEP = 100


class ErrorCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)

    def emit(self, record: logging.LogRecord) -> None:
        metrics.error(f"log_{service_of(record.name)}")


class RecentErrors(logging.Handler):
    """The last `KEEP` records at ERROR or above, oldest first."""

    def __init__(self, keep: int = KEEP) -> None:
        super().__init__(logging.ERROR)
        self.records: collections.deque[dict[str, Any]] = collections.deque(maxlen=keep)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit the format
            message = str(record.msg)
        self.records.append(
            {
                "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                    timespec="milliseconds"
                ),
                "level": record.levelname,
                "logger": record.name,
                "service": service_of(record.name),
                "msg": message,
            }
        )

    def last(self, count: int) -> list[dict[str, Any]]:
        return list(self.records)[-count:] if count > 0 else []


def install(*handlers: logging.Handler) -> None:
    """Add ``handlers`` to the root logger (once: a handler of the same class is replaced)."""
    root = logging.getLogger()
    for handler in handlers:
        for old in [h for h in root.handlers if type(h) is type(handler)]:
            root.removeHandler(old)
        root.addHandler(handler)
