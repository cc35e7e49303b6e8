"""Value checks for settings: each returns None when a value is fine, else what is wrong."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

AE_TITLE = re.compile(r"^[ -~]{1,16}$")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
Check = Callable[[Any], str | None]


def port(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 65535
    return None if ok else "expected a port number 0-65535 (0 = any free port)"


def non_negative(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    return None if ok else "expected a whole number, 0 or more"


def positive(value: Any) -> str | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
    return None if ok else "expected a positive number"


def ae_title(value: Any) -> str | None:
    ok = isinstance(value, str) and bool(AE_TITLE.match(value)) and value.strip() != ""
    ok = ok and "\\" not in value
    return None if ok else "expected an AE title: 1-16 printable ASCII characters, no backslash"


def ae_list(value: Any) -> str | None:
    if not isinstance(value, list):
        return "expected a list of AE titles"
    bad = [v for v in value if ae_title(v)]
    return f"invalid AE title(s): {bad!r}" if bad else None


OPERATIONS = ("echo", "store", "find", "move", "get")


def operations(value: Any) -> str | None:
    if not isinstance(value, list):
        return "expected a list of operations"
    bad = [v for v in value if v not in OPERATIONS]
    return (
        f"unknown operation(s) {bad!r}; expected some of {', '.join(OPERATIONS)}" if bad else None
    )


def choice(*options: str) -> Check:
    def check(value: Any) -> str | None:
        return None if value in options else f"expected one of {', '.join(options)}"

    return check


def level(value: Any) -> str | None:
    ok = isinstance(value, str) and value.upper() in LOG_LEVELS
    return None if ok else f"expected a log level: {', '.join(LOG_LEVELS)}"


def levels(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "expected a table of service = level"
    bad = [k for k, v in value.items() if level(v)]
    return f"invalid level for: {', '.join(bad)}" if bad else None


def db_url(value: Any) -> str | None:
    ok = isinstance(value, str) and value.startswith(("sqlite://", "postgresql+psycopg://"))
    return None if ok else "expected sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB"


def layout(value: Any) -> str | None:
    from pacs.storage.layout import LayoutError, compile_layout  # noqa: PLC0415 (cycle-free)

    if not isinstance(value, str):
        return "expected a path template string"
    try:
        compile_layout(value)
    except LayoutError as exc:
        return str(exc)
    return None


def charsets(value: Any) -> str | None:
    import codecs  # noqa: PLC0415

    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names:
        return "expected a character set name or a list of them"
    for name in names:
        try:
            codecs.lookup(str(name))
        except LookupError:
            return f"unknown character set {name!r}"
    return None


def quality(value: Any) -> str | None:
    return None if 1 <= value <= 100 else "must be between 1 and 100"


def required(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else "must not be empty"


ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+$")


def origins(value: Any) -> str | None:
    if not isinstance(value, list):
        return "expected a list of origins"
    bad = [v for v in value if v != "*" and not (isinstance(v, str) and ORIGIN.match(v))]
    return f"expected origins like https://viewer.example.org or *, not {bad!r}" if bad else None
