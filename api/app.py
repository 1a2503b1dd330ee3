"""The Litestar application: every area's controllers under `/api/v1`, one auth layer, one error map.

Areas are packages `api/<area>/` whose `controllers.py` exposes `ROUTES`; they are discovered here,
so adding an area never edits this file.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import pkgutil
import time
from typing import Any

from litestar import Litestar, Router
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.prometheus import PrometheusConfig
from sqlalchemy.ext.asyncio import async_sessionmaker

import api
from api import asset_events
from api.auth.middleware import AuthMiddleware
from api.deps import provide_db_session, provide_read_session, provide_settings
from api.errors import EXCEPTION_HANDLERS
from api.input_guard import InputGuardMiddleware
from api.openapi import document
from api.openapi_ui.controllers import ASSETS_PATH
from api.requests import launch as request_launch
from api.uploads import upload_body_limit
from api.usage.hooks import add_usage_headers, count_request
from api.usage.registrations import RegistrationGate
from api.warmup import WARM_UP_COLLECTION, warm_request_path
from core.db.engine import make_async_engine, make_async_session_factory
from core.log_format import configure_logging
from core.search import hybrid
from core.search.stats import SearchStats
from core.settings import Settings, get_settings
from core.usage.counters import make_usage_counter
from core.version import VERSION
from portal.routes import portal_router

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"
DOCS_ASSETS = f"{API_PREFIX}{ASSETS_PATH}"
PUBLIC_PATHS = [f"^{API_PREFIX}/docs", f"^{API_PREFIX}/schema"]
# request counts and latencies per route template (not per raw path, which would explode cardinality);
# start-up's internal warm-up request (api/warmup.py) is not a client's, so it is not counted
PROMETHEUS = PrometheusConfig(
    app_name="kariz",
    prefix="kariz",
    group_path=True,
    exclude=[f"^{API_PREFIX}/metrics", f"^{API_PREFIX}/docs", f"^{API_PREFIX}/search/{WARM_UP_COLLECTION}$"],
)


def discover_routes(name: str = "ROUTES") -> list[Any]:
    """Every `api.<area>.controllers.ROUTES` (or another list `name`), areas in name order."""
    routes: list[Any] = []
    for info in sorted(pkgutil.iter_modules(api.__path__), key=lambda m: m.name):
        if not info.ispkg:
            continue
        try:
            module = importlib.import_module(f"api.{info.name}.controllers")
        except ModuleNotFoundError as exc:
            if exc.name == f"api.{info.name}.controllers":
                continue
            raise
        routes.extend(getattr(module, name, []))
    return routes


def create_app(
    settings: Settings | None = None,
    *,
    database_url: str | None = None,
    session_factory: async_sessionmaker | None = None,
) -> Litestar:
    """The API. `database_url` defaults to the settings' (or the embedded server);
    `session_factory` lets tests bind the app to their own transaction."""
    settings = settings or get_settings()
    settings.check_production()

    async def open_state(app: Litestar) -> None:
        app.state.settings = settings
        app.state.started_at = time.time()
        app.state.engine = None
        app.state.search_stats = SearchStats()
        app.state.registrations = RegistrationGate(settings)
        asset_events.install()  # core's collection events (swaps, replaces) reach Dagster
        request_launch.install(settings)  # committed requests' runs launched at once (settings.dagster_url)
        if session_factory is not None:
            app.state.session_factory = session_factory
            app.state.read_engine = None
            app.state.usage = make_usage_counter(settings.redis_url, session_factory)
            return
        url = database_url
        if url is None:
            from core.db.embedded import resolve_database_urls

            url = resolve_database_urls(settings)[0]
        app.state.engine = make_async_engine(url, pool_size=settings.db_pool_size)
        app.state.session_factory = make_async_session_factory(app.state.engine)
        app.state.read_engine = app.state.engine.execution_options(isolation_level="AUTOCOMMIT")
        if settings.warm_models:  # serving starts after start-up: ready means the model is loaded
            await asyncio.to_thread(hybrid.warm_query_model, settings)
            await warm_request_path(app)  # and what the first search request runs for the first time
        app.state.usage = make_usage_counter(settings.redis_url, app.state.session_factory)

    async def close_state(app: Litestar) -> None:
        close = getattr(app.state.get("usage"), "close", None)
        if close is not None:  # first: the PostgreSQL counter writes its last counts
            await close()
        if app.state.get("engine") is not None:
            await app.state.engine.dispose()

    v1 = Router(path=API_PREFIX, route_handlers=discover_routes())
    uploads = Router(
        path=API_PREFIX,
        route_handlers=discover_routes("UPLOAD_ROUTES"),
        request_max_body_size=upload_body_limit(settings),
    )
    app = Litestar(
        route_handlers=[v1, uploads, portal_router()],
        on_startup=[open_state],
        on_shutdown=[close_state],
        dependencies={
            "db_session": Provide(provide_db_session),
            "read_session": Provide(provide_read_session),
            "settings": Provide(provide_settings, sync_to_thread=False),
        },
        middleware=[
            InputGuardMiddleware,
            PROMETHEUS.middleware,
            DefineMiddleware(AuthMiddleware, exclude=PUBLIC_PATHS, exclude_from_auth_key="public"),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=count_request,
        before_send=[add_usage_headers],
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Kariz API",
            version=VERSION,
            path=f"{API_PREFIX}/docs",
            # Swagger UI from the installed swagger-ui-bundle package: the page works offline
            render_plugins=[
                SwaggerRenderPlugin(
                    path=["/", "/swagger"],
                    js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                    css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                    standalone_preset_js_url=f"{DOCS_ASSETS}/swagger-ui-standalone-preset.js",
                    favicon=f"<link rel='icon' type='image/png' href='{DOCS_ASSETS}/favicon-32x32.png'>",
                )
            ],
            components=[
                Components(
                    security_schemes={
                        "apiKey": SecurityScheme(
                            type="http", scheme="bearer", description="sk_live_... API key or portal JWT"
                        ),
                    }
                )
            ],
            security=[{"apiKey": []}],
            use_handler_docstrings=True,
        ),
        debug=False,
    )
    document(app)
    return app


def app_factory() -> Litestar:
    """Entry point for ASGI servers (`uvicorn --factory api.app:app_factory`)."""
    configure_logging(logging.INFO)
    return create_app()
