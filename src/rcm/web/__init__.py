"""The web app: server-rendered pages and a JSON API under /api/, both from the data functions in
``rcm.web.pages``. ``create_app(store)`` builds it; ``rcm serve`` runs it with uvicorn."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    Response,
)
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request as StarletteRequest
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from swagger_ui_bundle import swagger_ui_path

from rcm import settings, taxonomy, users
from rcm.errors import BadInput, NotFound, RcmError
from rcm.search import MAX_OFFSET
from rcm.store import Store
from rcm.web import charts, i18n, pages
from rcm.web.accounts import add_account_routes
from rcm.web.auth import SESSION_COOKIE
from rcm.web.params import PathInt
from rcm.web.review import add_review_routes
from rcm.web.rounds import add_round_routes

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

MAX_LIST_PARAMS = 20
OUT_OF_RANGE = ("greater_than_equal", "less_than_equal")  # pydantic's errors for PathInt

# The API documentation: Swagger UI's own files (from the swagger-ui-bundle-v2 package, so that it
# works with no internet) and a start-up script served as a file: the CSP allows no inline script.
API_DOCS_ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "favicon-32x32.png": "image/png",
}
API_DOCS_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>RCM Compendium: API</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/api/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body>
</html>
"""

# Pages about people and their work: never kept by a browser or a shared cache (the back button on
# a shared computer, a proxy). So is every response to a signed-in person, except the static files.
PRIVATE_PATHS = ("/rounds", "/review", "/users", "/account", "/audit", "/login", "/logout")
NO_STORE = "no-store"


def _param(
    name: str, description: str, schema: dict[str, Any], many: bool = False
) -> dict[str, Any]:
    if many:
        schema = {"type": "array", "items": schema, "maxItems": MAX_LIST_PARAMS}
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        "explode": True,
    }


SEARCH_PARAMETERS = [
    _param(
        "q", 'words, "exact phrase", OR, -exclude, prefix*', {"type": "string", "maxLength": 1000}
    ),
    _param("page", "page number", {"type": "integer", "minimum": 1, "maximum": pages.MAX_PAGE}),
    _param(
        "size", "hits per page", {"type": "integer", "minimum": 1, "maximum": pages.MAX_PAGE_SIZE}
    ),
    _param(
        "sort",
        "relevance (default with words), oldest (default without), newest",
        {"type": "string", "enum": ["relevance", "oldest", "newest"]},
    ),
    _param("theme", "TS1…TS6; repeat for any of several", {"type": "string"}, many=True),
    _param("subtheme", "TS3.2 (theme.order)", {"type": "string"}, many=True),
    _param(
        "category",
        "principle, understanding, commitment, unassigned",
        {"type": "string"},
        many=True,
    ),
    _param("meeting", "XII, XII..XXI, XII.., ..X", {"type": "string", "maxLength": 40}),
    _param("year", "2005, 2005..2010", {"type": "string", "maxLength": 20}),
    _param(
        "several",
        "yes: placed under several themes; no: under one",
        {"type": "string", "enum": ["yes", "no"]},
    ),
    _param("xref", "a cross-reference note names this theme (TS3)", {"type": "string"}, many=True),
]


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("rcm.web", "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["language_name"] = i18n.language_name
    env.globals["LANGUAGES"] = i18n.LANGUAGES
    return env


def app_from_env() -> FastAPI:
    """The app for the database named by RCM_DATABASE_URL (for `rcm serve --workers N`), with the
    settings of the environment (``rcm.settings``)."""
    config = settings.current()
    settings.configure_logging(config)
    return create_app(Store(), config)


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def create_app(store: Store, config: settings.Config | None = None) -> FastAPI:
    app = FastAPI(
        title="RCM Compendium",
        version="1",
        description=(
            "The statements of the Regional Conference on Migration (Puebla Process), "
            "1996 onwards: "
            "search with facets, statements, themes and meetings."
        ),
        docs_url=None,  # /api/docs below: Swagger UI served from the app, under its CSP
        redoc_url=None,
    )
    config = config or settings.current()
    app.state.config = config
    env = _environment()
    app.add_middleware(LanguageAndHeaders, secure=config.secure_cookies)
    if "*" not in config.allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(config.allowed_hosts))
    app.mount("/static", StaticFiles(packages=[("rcm.web", "static")]), name="static")

    def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        lang = i18n.current.get()
        html = env.get_template(template).render(
            request=request,
            lang=lang,
            path=request.url.path,
            query=request.url.query,
            url_with=lambda **changes: _url_with(request, **changes),
            lang_url=lambda code: _url_with(request, lang=code),
            **context,
        )
        return HTMLResponse(html, status_code=status)

    def wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api/") or request.url.path.endswith(".json")

    def error_response(request: Request, status: int, message: str) -> Response:
        if wants_json(request):
            return JSONResponse(
                {"error": {"status": status, "message": message}}, status_code=status
            )
        return render(request, "error.html", status=status, status_code=status, message=message)

    @app.exception_handler(RcmError)
    async def domain_error(request: Request, exc: RcmError) -> Response:
        message = exc.message
        if isinstance(exc, BadInput):  # the store's few fixed messages, in the reader's language
            message = i18n.gettext(message)
        if isinstance(exc, NotFound):
            message = i18n.gettext("Not found") + ": " + exc.message
        return error_response(request, exc.status, message)

    @app.exception_handler(RequestValidationError)
    async def bad_parameters(request: Request, exc: RequestValidationError) -> Response:
        if any(
            e.get("loc", ())[:1] == ("path",) and e.get("type") in OUT_OF_RANGE
            for e in exc.errors()
        ):
            # /rounds/2147483648, /rounds/-1: a number no row can have is not found.
            return error_response(request, 404, i18n.gettext("There is no page at this address."))
        details = "; ".join(
            f"{'.'.join(str(x) for x in e.get('loc', ())[1:])}: {e.get('msg', '')}"
            for e in exc.errors()[:3]
        )
        return error_response(request, 400, i18n.gettext("Bad parameters") + f" ({details})")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return error_response(request, 404, i18n.gettext("There is no page at this address."))
        return error_response(request, exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:  # pragma: no cover
        return error_response(request, 500, i18n.gettext("Something went wrong on our side."))

    # --- pages ---------------------------------------------------------------------------------

    @app.get("/categories.css", include_in_schema=False)
    def categories_css() -> Response:
        return Response(taxonomy.category_css(), media_type="text/css; charset=utf-8")

    @app.get("/", include_in_schema=False)
    def home_html(request: Request) -> Response:
        return render(request, "home.html", data=pages.home(store))

    @app.get("/search", include_in_schema=False)
    def search_html(request: Request) -> Response:
        params = _search_params(request)
        try:
            data = pages.search_page(store, **params)
        except RcmError as exc:
            if exc.status != 400:
                raise
            return render(
                request, "search.html", status=400, data=None, params=params, error=exc.message
            )
        return render(request, "search.html", data=data, params=params, error=None)

    @app.get("/search.csv", include_in_schema=False)
    def search_csv(request: Request) -> Response:
        from rcm.export.registry import export_selection

        hits, data = _all_hits(request)
        body, media, name = export_selection(
            store, "csv", [h["id"] for h in hits], str(data.get("filter") or ""), "rcm-search"
        )
        disposition = f'attachment; filename="{name}"'
        return Response(body, media_type=media, headers={"Content-Disposition": disposition})

    @app.get("/search.json", include_in_schema=False)
    def search_json(request: Request) -> Response:
        hits, data = _all_hits(request)
        data = dict(data, hits=hits, offset=0, limit=len(hits), page=1, pages=1)
        return Response(
            json.dumps(data, ensure_ascii=False, indent=2),
            media_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="rcm-search.json"'},
        )

    @app.get("/search.docx", include_in_schema=False)
    def search_docx(request: Request) -> Response:
        from rcm.export.docx import compilation_docx

        compendium, sentence = _focused(request)
        return Response(
            compilation_docx(compendium, selection=sentence or None),
            media_type=DOCX,
            headers={"Content-Disposition": 'attachment; filename="rcm-compilation.docx"'},
        )

    @app.get("/search.xlsx", include_in_schema=False)
    def search_xlsx(request: Request) -> Response:
        from rcm.export.xlsx import compendium_xlsx

        compendium, _ = _focused(request)
        return Response(
            compendium_xlsx(compendium),
            media_type=XLSX,
            headers={"Content-Disposition": 'attachment; filename="rcm-compendium.xlsx"'},
        )

    def _focused(request: Request) -> tuple[Any, str]:
        """The compendium reduced to a search result, for the Word and Excel downloads."""
        from rcm.export.docx import Selection, narrow

        hits, data = _all_hits(request)
        sentence = str(data.get("filter") or "")
        return narrow(
            store.load(), Selection(statement_ids=frozenset(h["id"] for h in hits))
        ), sentence

    def _all_hits(request: Request) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        params = _search_params(request)
        params.update(page=1, size=pages.MAX_PAGE_SIZE)
        first = pages.search_page(store, **params)
        hits = list(first["hits"])
        page = 1
        while len(hits) < first["total"] and len(hits) < MAX_OFFSET:
            page += 1
            hits += pages.search_page(store, **dict(params, page=page))["hits"]
        return hits, first

    @app.get("/statements/{statement_id}", include_in_schema=False)
    def statement_html(request: Request, statement_id: str) -> Response:
        viewer = users.session_user(store, request.cookies.get(SESSION_COOKIE))
        data = pages.statement_page(store, statement_id, viewer[0] if viewer else None)
        return render(request, "statement.html", data=data)

    @app.get("/themes", include_in_schema=False)
    def themes_html(request: Request) -> Response:
        return render(request, "themes.html", data=pages.themes_page(store))

    @app.get("/themes/{number}", include_in_schema=False)
    def theme_html(request: Request, number: PathInt) -> Response:
        return render(request, "theme.html", data=pages.theme_page(store, number))

    @app.get("/themes/{number}/{order}", include_in_schema=False)
    def subtheme_html(request: Request, number: PathInt, order: PathInt) -> Response:
        return render(request, "theme.html", data=pages.subtheme_page(store, number, order))

    @app.get("/meetings", include_in_schema=False)
    def meetings_html(request: Request) -> Response:
        return render(request, "meetings.html", data=pages.meetings_page(store))

    @app.get("/meetings/{code}", include_in_schema=False)
    def meeting_html(request: Request, code: str) -> Response:
        return render(request, "meeting.html", data=pages.meeting_page(store, code))

    @app.get("/about", include_in_schema=False)
    def about_html(request: Request) -> Response:
        data = pages.about_page(store)
        legend = {th["number"]: f"TS{th['number']}" for th in pages.home(store)["themes"]}
        chart = Markup(
            charts.stacked_bars(
                data["chart_meetings"], i18n.gettext("Statements per meeting, by theme"), legend
            )
        )
        columns = ["principle", "understanding", "commitment", "unassigned"]
        labels = {
            "principle": i18n.gettext("principle"),
            "understanding": i18n.gettext("understanding"),
            "commitment": i18n.gettext("commitment"),
            "unassigned": i18n.gettext("not yet assigned"),
        }
        heat = Markup(
            charts.heat_table(
                data["chart_categories"], columns, i18n.gettext("Themes by category"), labels
            )
        )
        return render(request, "about.html", data=data, chart=chart, heat=heat)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> Response:
        """For load balancers and monitors: 200 when the database answers and its schema is the
        one this rcm needs, else 503 saying which."""
        from rcm.store import migrate

        head = migrate.head_revision()
        try:
            current = store.revision()
        except RcmError as exc:
            return JSONResponse({"status": "error", "database": exc.message}, status_code=503)
        body = {"status": "ok", "database": "reachable", "schema": current, "expected": head}
        if current != head:
            body["status"] = "error"
            return JSONResponse(body, status_code=503)
        return JSONResponse(body)

    # --- the API documentation: Swagger UI's files from the swagger-ui-bundle-v2 package --------

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> Response:
        return HTMLResponse(API_DOCS_PAGE)

    @app.get("/api/docs/{name}", include_in_schema=False)
    def api_docs_asset(name: str) -> Response:
        if name not in API_DOCS_ASSETS:
            raise StarletteHTTPException(404)
        return FileResponse(
            Path(str(swagger_ui_path)) / name,
            media_type=API_DOCS_ASSETS[name],
            headers={"Cache-Control": "public, max-age=86400"},
        )

    # --- JSON API --------------------------------------------------------------------------------

    @app.get(
        "/api/search",
        tags=["search"],
        summary="Search statements, with facet counts",
        openapi_extra={"parameters": SEARCH_PARAMETERS},
    )
    def api_search(request: Request) -> JSONResponse:
        # Parameters are read by _search_params (the same reader as the HTML page) rather than
        # declared in the signature: the declarations' validation cost more than the search.
        return JSONResponse(pages.search_page(store, **_search_params(request)))

    @app.get("/api/statements/{statement_id}", tags=["statements"], summary="One statement")
    def api_statement(request: Request, statement_id: str) -> JSONResponse:
        viewer = users.session_user(store, request.cookies.get(SESSION_COOKIE))
        return JSONResponse(
            pages.statement_page(store, statement_id, viewer[0] if viewer else None)
        )

    @app.get("/api/themes", tags=["themes"], summary="The six themes, their sub-themes and counts")
    def api_themes() -> JSONResponse:
        return JSONResponse(pages.themes_page(store))

    @app.get(
        "/api/themes/{number}", tags=["themes"], summary="A theme's statements in document order"
    )
    def api_theme(number: PathInt) -> JSONResponse:
        return JSONResponse(pages.theme_page(store, number))

    @app.get("/api/themes/{number}/{order}", tags=["themes"], summary="One sub-theme's statements")
    def api_subtheme(number: PathInt, order: PathInt) -> JSONResponse:
        return JSONResponse(pages.subtheme_page(store, number, order))

    @app.get(
        "/api/meetings", tags=["meetings"], summary="Meetings and how many statements each adopted"
    )
    def api_meetings() -> JSONResponse:
        return JSONResponse(pages.meetings_page(store))

    @app.get(
        "/api/meetings/{code}", tags=["meetings"], summary="What a meeting adopted (19 or XIX)"
    )
    def api_meeting(code: str) -> JSONResponse:
        return JSONResponse(pages.meeting_page(store, code))

    @app.get("/api/about", tags=["about"], summary="The source and its consistency report")
    def api_about() -> JSONResponse:
        return JSONResponse(pages.about_page(store))

    add_round_routes(app, store, render)
    add_review_routes(app, store, render)
    add_account_routes(app, store, render)
    return app


class LanguageAndHeaders:
    """Chooses the interface language for each request (``?lang=`` remembered in a cookie, else
    the cookie, else Accept-Language) and adds the language and security headers. Plain ASGI: it
    runs on every request, so it stays cheap."""

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
        path = scope["path"]
        private = path.startswith(PRIVATE_PATHS) or (
            SESSION_COOKIE in request.cookies and not path.startswith("/static/")
        )
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
                if private:
                    headers["Cache-Control"] = NO_STORE
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


def _search_params(request: Request) -> dict[str, Any]:
    qp = request.query_params

    def many(name: str) -> list[str]:
        values = [v for v in qp.getlist(name) if v.strip()]
        if len(values) > MAX_LIST_PARAMS:
            raise RcmError(f"at most {MAX_LIST_PARAMS} values for {name}")
        return values

    def number(name: str, default: int) -> int:
        raw = qp.get(name, "")
        if not raw:
            return default
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 6:  # "²".isdigit() is true
            raise RcmError(f"{name} must be a whole number")
        return int(raw)

    q = qp.get("q", "")
    if len(q) > 10_000:
        raise RcmError("the query is too long")
    return {
        "q": q,
        "themes": many("theme"),
        "subthemes": many("subtheme"),
        "categories": many("category"),
        "meeting": qp.get("meeting") or None,
        "year": qp.get("year") or None,
        "several": qp.get("several") or None,
        "xrefs": many("xref"),
        "sort": qp.get("sort") or None,
        "page": number("page", 1),
        "size": number("size", pages.PAGE_SIZE),
    }


def _url_with(request: Request, **changes: Any) -> str:
    """This page's address with some parameters changed (None removes one; a list repeats it)."""
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        elif isinstance(value, list | tuple):
            params[key] = [str(v) for v in value]
        else:
            params[key] = [str(value)]
    if "page" not in changes and any(k != "lang" for k in changes):
        params.pop("page", None)
    query = urlencode([(k, v) for k, vs in params.items() for v in vs])
    return f"{request.url.path}?{query}" if query else request.url.path
