"""What every handler shares, kept on ``app.state`` by ``create_app``: the store, the settings, the
templates and the sign-in helper. Handlers read them from the request, never from closures."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from rcm.store import Store
from rcm.users import User
from rcm.web import i18n
from rcm.web.auth import Auth
from rcm.web.caching import PRIVATE


def templates() -> Environment:
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
    env.globals["label"] = i18n.label
    env.globals["meeting_label"] = i18n.meeting_label
    env.globals["country_name"] = i18n.country_name
    env.globals["round_scope"] = i18n.round_scope
    return env


def store(request: Request) -> Store:
    found: Store = request.app.state.store
    return found


def auth(request: Request) -> Auth:
    found: Auth = request.app.state.auth
    return found


def viewer(request: Request) -> User | None:
    """The signed-in user, or None."""
    found = auth(request).viewer(request)
    return found[0] if found else None


def render(
    request: Request,
    template: str,
    status: int = 200,
    *,
    base_query: Iterable[tuple[str, str]] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page from its template. Links to this page with some parameters changed
    (``url_with``) start from ``base_query`` when given (the search's canonical parameters), else
    from the address's own."""
    env: Environment = request.app.state.templates
    pairs = list(request.query_params.multi_items() if base_query is None else base_query)
    if base_query is not None and "lang" in request.query_params:
        pairs.append(("lang", request.query_params["lang"]))
    path = request.url.path
    html = env.get_template(template).render(
        request=request,
        lang=i18n.current.get(),
        path=path,
        query=request.url.query,
        url_with=lambda **changes: url_with(path, pairs, **changes),
        lang_url=lambda code: url_with(path, request.query_params.multi_items(), lang=code),
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    if "csrf" in context:  # a form only this person may send: for nobody else's cache
        response.headers["Cache-Control"] = PRIVATE
    return response


def url_with(path: str, pairs: Iterable[tuple[str, str]], **changes: Any) -> str:
    """This page's address with some parameters changed (None removes one; a list repeats it)."""
    params: dict[str, list[str]] = {}
    for key, value in pairs:
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
    return f"{path}?{query}" if query else path
