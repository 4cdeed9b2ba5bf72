"""Signing in and out, who is asking, and whether a form really came from our page: shared by
every page that needs a signed-in person (consultation rounds, the review queue, accounts)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from rcm import users
from rcm.errors import RcmError
from rcm.store import Store
from rcm.users import AuthError, Forbidden, User
from rcm.web import i18n
from rcm.web.bodies import capped_form

SESSION_COOKIE = "rcm_session"
LOGIN_COOKIE = "rcm_login"


def client_address(request: Request) -> str:
    """The client's address as the app sees it: behind a trusted proxy (RCM_FORWARDED_ALLOW_IPS),
    uvicorn has already put the forwarded one in its place."""
    return request.client.host if request.client else "?"


def _login_signature(request: Request, nonce: str) -> str:
    key = hashlib.sha256(b"login-form:" + request.app.state.config.secret_key.encode()).digest()
    return hmac.new(key, nonce.encode(), hashlib.sha256).hexdigest()


def new_login_token(request: Request) -> str:
    """The sign-in form's double-submit token: a nonce signed with the secret key, so a value
    planted in the cookie by someone else (a sibling subdomain, a man in the middle on http) is
    not accepted."""
    nonce = secrets.token_urlsafe(24)
    return f"{nonce}.{_login_signature(request, nonce)}"


def login_token_valid(request: Request, submitted: str) -> bool:
    expected = request.cookies.get(LOGIN_COOKIE, "")
    nonce, _, signature = expected.partition(".")
    return bool(
        nonce
        and hmac.compare_digest(submitted.encode(), expected.encode())
        and hmac.compare_digest(signature.encode(), _login_signature(request, nonce).encode())
    )


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, Secure where the settings say so, and no
    longer than the session itself."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        max_age=int(users.SESSION_LIFETIME.total_seconds()),
        secure=request.app.state.config.secure_cookies,
    )


class Auth:
    def __init__(self, store: Store) -> None:
        self.store = store

    def viewer(self, request: Request) -> tuple[User, str] | None:
        """The signed-in user and their session's CSRF token, or None."""
        return users.session_user(self.store, request.cookies.get(SESSION_COOKIE))

    def signed_in(self, request: Request) -> tuple[User, str]:
        found = self.viewer(request)
        if found is None:
            raise AuthError(i18n.gettext("Please sign in first."))
        return found

    def secretariat(self, request: Request) -> tuple[User, str]:
        """The signed-in user, if the core's rule (``rcm.users.check_secretariat``) lets them
        manage the consultation, the compendium and the accounts."""
        user, csrf = self.signed_in(request)
        try:
            users.check_secretariat(user, "do this")
        except Forbidden:
            raise Forbidden(i18n.gettext("Only the Secretariat may do this.")) from None
        return user, csrf

    async def form_with_csrf(
        self,
        request: Request,
        csrf: str,
        *,
        max_fields: int = 2000,
        max_bytes: int | None = None,
        refusal: Callable[[], RcmError] | None = None,
    ) -> Any:
        if max_bytes is None:
            form = await request.form(max_files=1, max_fields=max_fields)
        else:  # an upload: the body is refused as soon as it passes max_bytes
            form = await capped_form(request, max_bytes, max_fields=max_fields, refusal=refusal)
        if not hmac.compare_digest(str(form.get("csrf", "")).encode(), csrf.encode()):
            raise Forbidden(
                i18n.gettext("This form has expired or came from another site: reload the page.")
            )
        return form
