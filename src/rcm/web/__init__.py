"""The web app: server-rendered pages and a JSON API under /api/, both from the data functions in
``rcm.web.pages``. ``create_app(store)`` builds it from one router per area (``public``,
``search``, ``api``, ``signin``, ``rounds``, ``review``, ``accounts``, ``editing``); ``rcm serve``
runs it with uvicorn."""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request as StarletteRequest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rcm import settings
from rcm.search import OLD_NAMES
from rcm.store import Store
from rcm.web import accounts, api, editing, i18n, public, review, rounds, search, signin
from rcm.web.auth import Auth
from rcm.web.caching import HttpCache
from rcm.web.deps import templates
from rcm.web.errors import add_error_handlers

__all__ = ["app_from_env", "create_app"]

REQUEST_LOG = logging.getLogger("rcm.request")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

DESCRIPTION = (
    "The statements of the Regional Conference on Migration (Puebla Process), 1996 onwards: "
    "search with facets, statements, themes and meetings. The search's parameters keep their old "
    "names too: " + ", ".join(f"{old} (now {new})" for old, new in OLD_NAMES.items()) + "."
)


def app_from_env() -> FastAPI:
    """The app for the database named by RCM_DATABASE_URL (for `rcm serve --workers N`), with the
    settings of the environment (``rcm.settings``)."""
    config = settings.current()
    settings.configure_logging(config)
    return create_app(Store(), config)


def create_app(store: Store, config: settings.Config | None = None) -> FastAPI:
    app = FastAPI(
        title="RCM Compendium",
        version="1",
        description=DESCRIPTION,
        docs_url=None,  # /api/docs: Swagger UI served from the app, under its CSP
        redoc_url=None,
    )
    config = config or settings.current()
    app.state.config = config
    app.state.store = store
    app.state.auth = Auth(store)
    app.state.templates = templates()
    # The last added runs first: the language is chosen before the cache computes the ETag.
    app.add_middleware(HttpCache, store=store, config=config)
    app.add_middleware(LanguageAndHeaders, secure=config.secure_cookies)
    if "*" not in config.allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(config.allowed_hosts))
    app.mount("/static", StaticFiles(packages=[("rcm.web", "static")]), name="static")
    add_error_handlers(app)
    for module in (public, search, api, signin, rounds, review, accounts, editing):
        include(app, module.router)
    return app


def include(app: FastAPI, router: APIRouter) -> None:
    """The router's routes in the app's own table. ``app.include_router`` of this FastAPI keeps an
    included router as one opaque entry, so ``app.routes`` would no longer list each route: the
    checks that walk it (every POST needs a session and the CSRF token, every integer path
    parameter is bounded) must see them all. The routers have no prefix or dependencies of their
    own, so their routes are added as they are."""
    app.router.routes.extend(router.routes)


class LanguageAndHeaders:
    """Chooses the interface language for each request (``?lang=`` remembered in a cookie, else
    the cookie, else Accept-Language) and adds the language and security headers (caching is
    ``rcm.web.caching``'s, inside). Plain ASGI: it runs on every request, so it stays cheap."""

    def __init__(self, app: ASGIApp, secure: bool = False) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = StarletteRequest(scope)
        started = time.perf_counter()
        status = 500  # what the log says if the app fails before it answers
        asked = request.query_params.get("lang")
        lang = i18n.choose(
            asked, request.cookies.get(i18n.COOKIE), request.headers.get("accept-language")
        )

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["Content-Language"] = lang
                headers["Vary"] = "Accept-Language, Cookie"
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if self.secure:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
                if asked in i18n.LANGUAGES:
                    headers.append(
                        "Set-Cookie",
                        f"{i18n.COOKIE}={asked}; Max-Age={365 * 24 * 3600}; Path=/; HttpOnly; "
                        "SameSite=Lax" + ("; Secure" if self.secure else ""),
                    )
            await send(message)

        token = i18n.current.set(lang)
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            i18n.current.reset(token)
            if REQUEST_LOG.isEnabledFor(logging.INFO):
                client = scope.get("client")
                REQUEST_LOG.info(
                    "%s %s %s",
                    scope["method"],
                    scope["path"],
                    status,
                    extra={
                        "fields": {
                            "event": "request",
                            "method": scope["method"],
                            "path": scope["path"],
                            "status": status,
                            "ms": round((time.perf_counter() - started) * 1000, 1),
                            "client": client[0] if client else None,
                        }
                    },
                )
