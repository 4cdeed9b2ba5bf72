"""Signing in and out (``/login``, ``/logout``). The sign-in form is protected by a signed
double-submit token; checking the password (argon2) runs off the event loop."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from rcm import consult, users
from rcm.users import AuthError
from rcm.web import i18n
from rcm.web.auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    client_address,
    login_token_valid,
    new_login_token,
    set_session_cookie,
)
from rcm.web.deps import auth, render, store

router = APIRouter(include_in_schema=False)


def login_form(
    request: Request, status: int = 200, error: str | None = None, target: str = ""
) -> Response:
    # Signing in has no session yet: its form is protected by a double-submit token (a cookie
    # and the same value in the form), so no other site can sign a reader into its account.
    # Every showing of the form, an error included, carries a fresh one.
    token = new_login_token(request)
    response = render(
        request,
        "login.html",
        status=status,
        error=error,
        next=target,
        csrf=token,
        max_password=users.MAX_PASSWORD,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        max_age=3600,
        secure=request.app.state.config.secure_cookies,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/login")
def login_page(request: Request) -> Response:
    # Without ``next`` the form sends none, and the person lands where their work is (``landing``).
    return login_form(request, target=request.query_params.get("next", ""))


def landing(request: Request, user: users.User) -> str:
    """Where signing in leads when no page asked for it: a focal point to their country's form
    when exactly one open round asks it (every round asks every Member Country), else the
    rounds."""
    if user.role is users.Role.FOCAL_POINT:
        open_rounds = [r for r in consult.list_rounds(store(request)) if r.state == "open"]
        if len(open_rounds) == 1:
            return f"/rounds/{open_rounds[0].id}/answers"
    return "/rounds"


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=10)
    target = str(form.get("next") or "")
    if target and (not target.startswith("/") or target.startswith("//")):
        target = "/rounds"
    if not login_token_valid(request, str(form.get("csrf", ""))):
        return login_form(
            request,
            403,
            i18n.gettext("This form has expired or came from another site: reload the page."),
            target,
        )
    try:
        # argon2 takes a tenth of a second or more, on purpose: never on the event loop.
        user = await run_in_threadpool(
            users.authenticate,
            store(request),
            str(form.get("username", ""))[:100],
            str(form.get("password", "")),
            client=client_address(request),
        )
    except AuthError:
        return login_form(
            request,
            401,
            i18n.gettext("Wrong username or password, or the account is locked: try again later."),
            target,
        )
    token, _ = users.start_session(store(request), user)
    response = RedirectResponse(target or landing(request, user), status_code=303)
    set_session_cookie(response, request, token)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    _, csrf = auth(request).signed_in(request)
    await auth(request).form_with_csrf(request, csrf)
    users.end_session(store(request), request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
