"""How the app answers a failure: the domain's errors (``rcm.errors``) and bad parameters become
an error page, or ``{"error": {"status", "message"}}`` under /api/ and for .json downloads."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException

from rcm.errors import NotFound, RcmError
from rcm.web import i18n
from rcm.web.deps import render

OUT_OF_RANGE = ("greater_than_equal", "less_than_equal")  # pydantic's errors for PathInt


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path.endswith(".json")


def error_response(request: Request, status: int, message: str) -> Response:
    if wants_json(request):
        return JSONResponse({"error": {"status": status, "message": message}}, status_code=status)
    return render(request, "error.html", status=status, status_code=status, message=message)


async def domain_error(request: Request, exc: RcmError) -> Response:
    # The core's messages in the reader's language: a template with its values (``RcmError``'s
    # ``template``/``values``), or a fixed message; one not in the catalog stays as it is.
    prefix = i18n.gettext("Not found") + ": " if isinstance(exc, NotFound) else ""
    if wants_json(request):
        return error_response(request, exc.status, prefix + i18n.error_text(exc))
    # on a page, the values (what was typed, codes) are set apart as <code>
    message = Markup.escape(prefix) + i18n.error_markup(exc)
    return error_response(request, exc.status, message)


async def bad_parameters(request: Request, exc: RequestValidationError) -> Response:
    if any(
        e.get("loc", ())[:1] == ("path",) and e.get("type") in OUT_OF_RANGE for e in exc.errors()
    ):
        # /rounds/2147483648, /rounds/-1: a number no row can have is not found.
        return error_response(request, 404, i18n.gettext("There is no page at this address."))
    details = "; ".join(
        f"{'.'.join(str(x) for x in e.get('loc', ())[1:])}: {e.get('msg', '')}"
        for e in exc.errors()[:3]
    )
    return error_response(request, 400, i18n.gettext("Bad parameters") + f" ({details})")


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    if exc.status_code == 404:
        return error_response(request, 404, i18n.gettext("There is no page at this address."))
    return error_response(request, exc.status_code, str(exc.detail))


async def unexpected(request: Request, exc: Exception) -> Response:  # pragma: no cover
    return error_response(request, 500, i18n.gettext("Something went wrong on our side."))


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RcmError, domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, bad_parameters)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, unexpected)
