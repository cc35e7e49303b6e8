"""create_app(web): the quart-trio application: health, accounts, the REST API, DICOMweb,
WADO-URI, OHIF and the web console.

Every path but the open ones (`pacs.http.auth.is_open`) needs an account; every error leaves as
a problem response (`pacs.http.problems`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
from quart import Response
from quart_trio import QuartTrio
from werkzeug.exceptions import HTTPException

from pacs import __version__
from pacs.http import authroutes, cors
from pacs.http.auth import Authenticator, guard
from pacs.http.problems import from_exception, problem
from pacs.http.services import WebServices


@attrs.frozen(kw_only=True)
class Health:
    """What /healthz reports: probes are cheap callables read on each request."""

    started: float = attrs.field(factory=time.monotonic)
    queues: Mapping[str, Callable[[], int]] = attrs.field(factory=dict)
    gauges: Mapping[str, Callable[[], Any]] = attrs.field(factory=dict)

    def snapshot(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "version": __version__,
            "uptime_s": round(time.monotonic() - self.started, 3),
            "queues": {name: probe() for name, probe in self.queues.items()},
            **{name: probe() for name, probe in self.gauges.items()},
        }


def create_app(health: Health, web: WebServices | None = None) -> QuartTrio:
    app = QuartTrio("pacs")
    app.config["MAX_CONTENT_LENGTH"] = None  # STOW-RS bodies stream; limits are ours
    app.config["BODY_TIMEOUT"] = None  # a large upload may take its time
    app.config["RESPONSE_TIMEOUT"] = None  # so may a large study

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return health.snapshot()

    @app.errorhandler(HTTPException)
    async def http_error(exc: HTTPException) -> Response:
        return problem(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(Exception)
    async def any_error(exc: Exception) -> Response:
        return from_exception(exc)

    if web is not None:
        _mount(app, web)
    return app


def _ohif_root(web: WebServices) -> Path | None:
    """The OHIF build to serve: ``[http] ohif_dir``, else the one `scripts/ohif-assets`
    installed in this checkout."""
    from pacs.http import ohif  # noqa: PLC0415

    configured = web.settings.http.ohif_dir
    if configured:
        return ohif.installed_root(Path(configured))
    return ohif.installed_root(Path(__file__).resolve().parents[2])


def _mount(app: QuartTrio, web: WebServices) -> None:
    auth = Authenticator(engine=web.engine, session_seconds=web.settings.http.session_hours * 3600)
    app.before_request(guard(auth))
    app.after_request(cors.after_request(web.settings.http.cors_origins))
    app.register_blueprint(authroutes.blueprint(auth))
    from pacs.dicomweb import routes, wado_uri  # noqa: PLC0415  (imports the imaging layer)
    from pacs.http import console, ohif, viewers  # noqa: PLC0415

    routes.register(app, web)
    app.register_blueprint(ohif.blueprint(_ohif_root(web)))
    app.register_blueprint(wado_uri.blueprint(web))
    app.register_blueprint(viewers.blueprint(web))
    app.register_blueprint(console.blueprint())
    from pacs import api  # noqa: PLC0415

    api.register(app, web)
    from pacs.api import archive, nodes, settings_api, stats, upload, users  # noqa: PLC0415

    app.register_blueprint(users.blueprint(web, auth))
    app.register_blueprint(archive.blueprint(web))
    app.register_blueprint(upload.blueprint(web))
    app.register_blueprint(nodes.blueprint(web))
    app.register_blueprint(stats.blueprint(web))
    app.register_blueprint(settings_api.blueprint(web))
