"""Until `pacs.http.app` mounts the console and `pacs.http.auth` opens its paths, the servers of
tests/console get both from here: conftest puts this folder first on their PYTHONPATH, and
Python imports this module at start-up. Once the application does both, this changes nothing
(and can go)."""

from __future__ import annotations

from typing import Any

from pacs.http import app, auth, console

if "/" not in auth.OPEN_PATHS:
    auth.OPEN_PATHS = (*auth.OPEN_PATHS, "/")
if "/console/" not in auth.OPEN_PREFIXES:
    auth.OPEN_PREFIXES = (*auth.OPEN_PREFIXES, "/console/")

_mount = app._mount


def _mount_with_console(quart_app: Any, web: Any) -> None:
    _mount(quart_app, web)
    if "console" not in quart_app.blueprints:
        quart_app.register_blueprint(console.blueprint())


app._mount = _mount_with_console
