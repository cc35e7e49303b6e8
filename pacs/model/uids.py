"""UID checks and the path-safe form of identifying values."""

from __future__ import annotations

import hashlib
import re

UID_RE = re.compile(r"^[0-9]+(\.[0-9]+)*$")
SAFE_TOKEN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def is_valid_uid(value: str | None) -> bool:
    """A UID as PS3.5 9.1 shapes it: digit groups separated by dots, at most 64 characters."""
    return bool(value) and len(value or "") <= 64 and bool(UID_RE.fullmatch(value or ""))


def hashed(value: str) -> str:
    """A stable, path-safe stand-in for a value that must not be used raw."""
    return "h" + hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def path_token_for_uid(value: str) -> str:
    """The UID itself when valid, else its hash: never anything that can escape a folder."""
    return value if is_valid_uid(value) else hashed(value)


def path_token(value: str) -> str:
    """Any other value (PatientID, Modality): kept only when plainly safe, else hashed."""
    return value if SAFE_TOKEN_RE.fullmatch(value) else hashed(value)
