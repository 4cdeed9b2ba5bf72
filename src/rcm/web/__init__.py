"""The web app: server-rendered pages and a JSON API under /api/, both from the data functions in
``rcm.web.pages``. ``create_app(store)`` builds it from one router per area (``public``,
``search``, ``api``, ``signin``, ``rounds``, ``review``, ``accounts``, ``editing``); ``rcm serve``
runs it with uvicorn."""

from __future__ import annotations

import gzip
import logging
import time
import zlib
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers, MutableHeaders
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
    # The last added runs first: the language is chosen before the cache computes the ETag; the
    # compression sees the cache's verdict on each answer.
    app.add_middleware(HttpCache, store=store, config=config)
    app.add_middleware(PublicCompression)
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
                headers["Vary"] = "Accept-Language, Cookie, Accept-Encoding"
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


class PublicCompression:
    """gzip for the public answers (``Cache-Control: public``, set by ``rcm.web.caching``: pages,
    /api/*, text downloads to someone not signed in) when the client accepts it: the 50 KB of the
    theme's statements in JSON go as 8 KB, and a shared cache keeps the compressed copy (``Vary:
    Accept-Encoding``; the ETag is weak, the same for both encodings, RFC 9110 8.8.1).

    Nothing private is compressed: a signed-in page, or a form, holds a secret (the session's
    CSRF token) beside text the reader sent (a search, a form's values), which compression would
    let an eavesdropper guess byte by byte (BREACH). Nor what is already compressed (Word, Excel,
    PDF, zip: not text), or under ``MINIMUM`` bytes. A streamed text answer (the CSV and JSON
    downloads of a search) is compressed as it is written."""

    MINIMUM = 1024
    LEVEL = 6

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not accepts_gzip(Headers(scope=scope)):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        stream: Any = None  # the compressor of a streamed answer, once it is chosen

        async def send_compressed(message: Message) -> None:
            nonlocal start, stream
            if message["type"] == "http.response.start":
                start = message  # held until the body says whether to compress
                return
            if start is not None:
                first, start = start, None
                body = message.get("body", b"")
                headers = MutableHeaders(scope=first)
                more = message.get("more_body", False)
                if message["type"] == "http.response.body" and compressible(headers):
                    if not more and len(body) >= self.MINIMUM:
                        body = gzip.compress(body, self.LEVEL, mtime=0)
                        headers["Content-Encoding"] = "gzip"
                        headers["Content-Length"] = str(len(body))
                        message = {**message, "body": body}
                    elif more and "content-length" not in headers:
                        # A streamed download (/search.csv): compressed as it goes, a part at
                        # a time (gzip's own format: wbits 31; no length known).
                        stream = zlib.compressobj(self.LEVEL, zlib.DEFLATED, 31)
                        headers["Content-Encoding"] = "gzip"
                await send(first)
            if stream is not None and message["type"] == "http.response.body":
                more = message.get("more_body", False)
                body = stream.compress(message.get("body", b""))
                if not more:
                    body += stream.flush()
                message = {**message, "body": body}
            await send(message)

        await self.app(scope, receive, send_compressed)


def accepts_gzip(headers: Headers) -> bool:
    """Whether Accept-Encoding names gzip without refusing it (``gzip;q=0``)."""
    for part in headers.get("accept-encoding", "").split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "x-gzip"):
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def compressible(headers: MutableHeaders) -> bool:
    """A public answer in a text format, not encoded yet."""
    if not headers.get("cache-control", "").startswith("public") or "content-encoding" in headers:
        return False
    media = headers.get("content-type", "").partition(";")[0].strip().lower()
    return media.startswith("text/") or media.endswith(("json", "xml"))
