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
    """``scheme://host[:port][/prefix]`` as the client sees it (no trailing slash)."""
    proto = _first("X-Forwarded-Proto").lower()
    forwarded = _first("X-Forwarded-Host")
    prefix = _first("X-Forwarded-Prefix").rstrip("/")
    scheme = proto if proto in {"http", "https"} else request.scheme
    if not _PREFIX.match(prefix):
        prefix = ""
    if forwarded and _HOST.match(forwarded):
        return f"{scheme}://{forwarded}{prefix}"
    host = request.headers.get("Host", "")
    if not _HOST.match(host):
        host = request.host
    if not host.endswith("]") and ":" not in host.rsplit("]", 1)[-1]:
        # Some clients (dicomweb-client) send the host without the port they connected to.
        port = (request.scope.get("server") or (None, None))[1]
        if port and port != {"http": 80, "https": 443}.get(scheme):
            host = f"{host}:{port}"
    return f"{scheme}://{host}{prefix}"
