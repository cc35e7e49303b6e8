"""The URL clients reach us at, honouring a reverse proxy's X-Forwarded-Proto/-Host/-Prefix,
so URLs we emit (RetrieveURL, BulkDataURI) work from where the client stands."""

from __future__ import annotations

import re

from quart import request

_PREFIX = re.compile(r"^(/[A-Za-z0-9._~\-/]*)?$")
_HOST = re.compile(r"^[A-Za-z0-9.\-\[\]:]+$")


def _first(header: str) -> str:
    return request.headers.get(header, "").split(",")[0].strip()


def root_url() -> str:
    """``scheme://host[/prefix]`` as the client sees it (no trailing slash)."""
    proto = _first("X-Forwarded-Proto").lower()
    host = _first("X-Forwarded-Host")
    prefix = _first("X-Forwarded-Prefix").rstrip("/")
    scheme = proto if proto in {"http", "https"} else request.scheme
    netloc = host if host and _HOST.match(host) else request.host
    if not _PREFIX.match(prefix):
        prefix = ""
    return f"{scheme}://{netloc}{prefix}"
