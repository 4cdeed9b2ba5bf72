"""Accounts on the web: everyone signed in changes their own password (`/account`); the
Secretariat adds people, disables and enables them, gives them a new password (`/users`), and
reads the audit trail (`/audit`). Every change is audited, like the CLI's (`rcm users`)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from rcm import taxonomy, users
from rcm.audit import MAX_LIMIT, audit_trail
from rcm.errors import RcmError
from rcm.users import Role, User
from rcm.web import i18n
from rcm.web.auth import client_address, set_session_cookie
from rcm.web.deps import auth, render, store

AUDIT_KINDS = ("round", "opinion", "comment", "declaration", "proposal", "user")
PAGE = 50
NO_STORE = {"Cache-Control": "no-store"}  # pages with passwords or personal data


def role_label(role: Role) -> str:
    return {
        Role.SECRETARIAT: i18n.gettext("Secretariat"),
        Role.FOCAL_POINT: i18n.gettext("Focal point"),
        Role.OBSERVER: i18n.gettext("Observer"),
    }[role]


def message_of(exc: RcmError) -> str:
    """An error of the core in the reader's language."""
    return i18n.error_text(exc)


def shown(value: Any) -> str | None:
    """A before or after value as compact JSON, as written (Spanish stays Spanish)."""
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


router = APIRouter(include_in_schema=False)


def private(response: Response) -> Response:
    response.headers.update(NO_STORE)
    return response


# --- one's own account ---------------------------------------------------------------------


def account_page(
    request: Request, user: User, csrf: str, *, status: int = 200, error: str | None = None
) -> Response:
    return private(
        render(
            request,
            "account.html",
            status=status,
            user=user,
            csrf=csrf,
            role=role_label(user.role),
            changed=request.query_params.get("changed") == "1",
            error=error,
            min_password=users.MIN_PASSWORD,
            max_password=users.MAX_PASSWORD,
            languages=[(code, i18n.language_name(code)) for code in i18n.LANGUAGES],
            lang_saved=request.query_params.get("lang_saved") == "1",
        )
    )


@router.get("/account")
def account(request: Request) -> Response:
    user, csrf = auth(request).signed_in(request)
    return account_page(request, user, csrf)


@router.post("/account/password")
async def change_password(request: Request) -> Response:
    user, csrf = auth(request).signed_in(request)
    form = await auth(request).form_with_csrf(request, csrf, max_fields=10)
    current, new, again = (str(form.get(k) or "") for k in ("current", "new", "again"))
    try:
        if new != again:
            raise RcmError(i18n.gettext("The two new passwords differ: type it twice."))
        # argon2 (verify, then hash): off the event loop.
        await run_in_threadpool(
            users.change_password,
            store(request),
            user.username,
            current,
            new,
            client=client_address(request),
        )
    except RcmError as exc:
        return account_page(request, user, csrf, status=400, error=message_of(exc))
    # Every session of the account has ended; this browser gets a new one.
    token, _ = users.start_session(store(request), user)
    response = RedirectResponse("/account?changed=1", status_code=303)
    set_session_cookie(response, request, token)
    return response


@router.post("/account/lang")
async def change_language(request: Request) -> Response:
    """One's documents' language (a focal point's questionnaire by default); the pages follow."""
    user, csrf = auth(request).signed_in(request)
    form = await auth(request).form_with_csrf(request, csrf, max_fields=5)
    lang = str(form.get("lang") or "")
    try:
        if lang not in i18n.LANGUAGES:
            raise RcmError(i18n.gettext("Choose English or Spanish."))
        users.set_language(store(request), user.username, lang, actor=user.username)
    except RcmError as exc:
        return account_page(request, user, csrf, status=400, error=message_of(exc))
    response = RedirectResponse(f"/account?lang_saved=1&lang={lang}", status_code=303)
    return response


# --- the Secretariat: people ---------------------------------------------------------------


def users_page(
    request: Request,
    user: User,
    csrf: str,
    *,
    status: int = 200,
    error: str | None = None,
    form: dict[str, str] | None = None,
    issued: tuple[str, str] | None = None,
    done: str | None = None,
) -> Response:
    people = users.list_users(store(request))
    return private(
        render(
            request,
            "users.html",
            status=status,
            user=user,
            csrf=csrf,
            people=[{"u": u, "role": role_label(u.role), "locked": u.locked()} for u in people],
            roles=[(r.value, role_label(r)) for r in Role],
            countries=[
                (c.iso3, c.name_es if i18n.current.get() == "es" else c.name_en)
                for c in taxonomy.countries()
                if c.member
            ],
            error=error,
            form=form or {},
            issued=issued,
            done=done,
        )
    )


@router.get("/users")
def users_list(request: Request) -> Response:
    user, csrf = auth(request).secretariat(request)
    return users_page(request, user, csrf)


@router.post("/users")
async def users_add(request: Request) -> Response:
    user, csrf = auth(request).secretariat(request)
    form = await auth(request).form_with_csrf(request, csrf, max_fields=10)
    values = {k: str(form.get(k) or "").strip()[:300] for k in ("username", "name", "role")}
    values["country"] = str(form.get("country") or "").strip()[:3]
    try:
        added, password = await run_in_threadpool(
            users.add_user,
            store(request),
            values["username"],
            values["role"],
            country=values["country"] or None,
            name=values["name"],
            actor=user.username,
        )
    except RcmError as exc:
        return users_page(request, user, csrf, status=400, error=message_of(exc), form=values)
    return users_page(request, user, csrf, issued=(added.username, password))


async def change(request: Request, username: str, what: str) -> Response:
    user, csrf = auth(request).secretariat(request)
    await auth(request).form_with_csrf(request, csrf, max_fields=5)
    try:
        if what == "password":
            password = await run_in_threadpool(
                users.reset_password, store(request), username, actor=user.username
            )
            return users_page(
                request,
                user,
                csrf,
                issued=(users.get_user(store(request), username).username, password),
            )
        before = users.get_user(store(request), username)
        if what == "unlock" or (what == "enable" and before.active):
            lifted = users.unlock_user(store(request), username, actor=user.username)
            message = (
                i18n.gettext("The sign-in delays of %(name)s are lifted.")
                if lifted
                else i18n.gettext("%(name)s is enabled and had no sign-in delay to lift.")
            )
            return users_page(request, user, csrf, done=message % {"name": before.username})
        changed = (users.disable_user if what == "disable" else users.enable_user)(
            store(request), username, actor=user.username
        )
    except RcmError as exc:
        if exc.status == 404:
            raise
        return users_page(request, user, csrf, status=400, error=message_of(exc))
    if changed.id == user.id:  # the Secretariat disabled their own account: signed out
        return RedirectResponse("/", status_code=303)
    message = (
        i18n.gettext("%(name)s is disabled and signed out.")
        if what == "disable"
        else i18n.gettext("%(name)s may sign in again.")
    )
    return users_page(request, user, csrf, done=message % {"name": changed.username})


@router.post("/users/{username}/disable")
async def users_disable(request: Request, username: str) -> Response:
    return await change(request, username, "disable")


@router.post("/users/{username}/enable")
async def users_enable(request: Request, username: str) -> Response:
    return await change(request, username, "enable")


@router.post("/users/{username}/unlock")
async def users_unlock(request: Request, username: str) -> Response:
    return await change(request, username, "unlock")


@router.post("/users/{username}/password")
async def users_password(request: Request, username: str) -> Response:
    return await change(request, username, "password")


# --- the Secretariat: the audit trail ------------------------------------------------------


@router.get("/audit")
def audit_page(request: Request) -> Response:
    user, csrf = auth(request).secretariat(request)
    q = request.query_params
    filters = {k: (q.get(k) or "").strip()[:200] for k in ("action", "actor", "object")}
    if filters["action"] and filters["action"].split(".")[0] not in AUDIT_KINDS:
        raise RcmError(i18n.gettext("Unknown kind of change.") + f" ({filters['action']})")
    raw = q.get("offset") or "0"
    offset = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 9 else 0
    page = audit_trail(
        store(request),
        action=filters["action"] or None,
        actor=filters["actor"] or None,
        obj=filters["object"] or None,
        limit=min(PAGE, MAX_LIMIT),
        offset=offset,
    )

    def link(new_offset: int) -> str:
        kept: dict[str, Any] = {k: v for k, v in filters.items() if v}
        return "/audit?" + urlencode({**kept, "offset": new_offset})

    return private(
        render(
            request,
            "audit.html",
            user=user,
            csrf=csrf,
            page=page,
            rows=[
                {"e": e, "before": shown(e.before), "after": shown(e.after)} for e in page.events
            ],
            filters=filters,
            kinds=AUDIT_KINDS,
            previous=link(max(0, offset - PAGE)) if offset > 0 else None,
            next=link(offset + PAGE) if offset + PAGE < page.total else None,
        )
    )
