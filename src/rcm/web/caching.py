"""HTTP caching of the public site, so that a reverse proxy or a CDN can carry the readers
(docs/deploy.md): an ``ETag`` on every public answer, ``Cache-Control`` suited to each, and
``304 Not Modified`` for a conditional request whose ETag still holds, answered before the page
is rendered.

The ETag of an answer is a digest of everything the answer is made from:

- the data version (``Store.data_version``: every committed write of shown data bumps it, see
  ``rcm.store.versioning``), read BEFORE the handler reads the data, so an ETag never claims data
  newer than the answer holds;
- the code (a digest of the ``rcm`` package's files: templates, catalogs, taxonomy; the same for
  every worker and every server running the same release) and the settings;
- the day (UTC): a download says when it was made, a round's silence counts as consent after its
  deadline;
- the representation's variant inputs: the interface language chosen for the request (``?lang=``,
  cookie, ``Accept-Language``), scheme, host and root path (the vocabularies' IRIs hold them), the
  path and the query string (which also chooses the format: /search.csv, .docx, ...).

Who gets what (``Cache-Control``):

- public pages, /api/* and downloads, answered 200 (or 304) to someone not signed in:
  ``public, max-age=RCM_CACHE_MAX_AGE, stale-while-revalidate=RCM_CACHE_STALE``, with the ETag;
- anything to a request carrying a session cookie, the pages about people and their work
  (``PRIVATE_PATHS``), every answer that sets a cookie or holds a form with a CSRF token (the
  handler says so with ``private, no-store`` itself): ``private, no-store``, no ETag;
- 404 and 410: ``public, max-age`` of at most 10 seconds; other errors and every non-GET:
  ``no-store``;
- the health check: ``no-store``; the static files and the API documentation's assets: their
  own headers.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rcm import settings
from rcm.errors import RcmError
from rcm.store import Store
from rcm.web import i18n
from rcm.web.auth import SESSION_COOKIE

__all__ = ["PRIVATE", "PRIVATE_PATHS", "HttpCache", "code_digest", "etag_matches"]

# Pages about people and their work: never kept by a browser or a shared cache (the back button on
# a shared computer, a proxy). So is every response to a signed-in person.
PRIVATE_PATHS = ("/rounds", "/review", "/users", "/account", "/audit", "/login", "/logout")
PRIVATE = "private, no-store"
NO_STORE = "no-store"
# Left alone: the static files (Starlette's own ETag and Last-Modified) and the API documentation's
# assets (their own Cache-Control), the same for everyone.
UNTOUCHED_PATHS = ("/static/", "/api/docs/")
# Never stored: the health check (a monitor must reach the app itself).
NEVER_STORED = ("/healthz",)
NOT_FOUND_MAX_AGE = 10
CACHEABLE = frozenset({200, 304})


@cache
def code_digest() -> str:
    """A digest of the ``rcm`` package's files (code, templates, catalogs, data): a new release
    changes every ETag, and every worker of one release computes the same."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110's weak comparison of an If-None-Match list with an ETag. ``*`` ("any current
    representation") is not taken: the 304 is decided before the handler runs, when it is not
    known whether the answer would be a page (rather than a 404, or a form for one person), so
    only an ETag this app gave for the page itself earns a 304."""
    opaque = etag.removeprefix("W/")
    return any(
        candidate.strip().removeprefix("W/") == opaque for candidate in if_none_match.split(",")
    )


class HttpCache:
    """The ASGI middleware that adds the headers above and answers 304s. It runs inside
    ``LanguageAndHeaders`` (which has chosen the language, and adds Vary and the security
    headers to every answer, a 304 included)."""

    def __init__(self, app: ASGIApp, store: Store, config: settings.Config) -> None:
        self.app = app
        self.store = store
        self.public = (
            f"public, max-age={config.cache_max_age}, stale-while-revalidate={config.cache_stale}"
        )
        self.not_found = f"public, max-age={min(config.cache_max_age, NOT_FOUND_MAX_AGE)}"
        self.release = hashlib.sha256(
            (code_digest() + repr(config)).encode()  # the key is only hashed, never shown
        ).hexdigest()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNTOUCHED_PATHS):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        policy = self.policy(scope, headers)
        etag = await self.etag(scope, headers) if policy == self.public else None
        if etag is not None and etag_matches(headers.get("if-none-match", ""), etag):
            await send(
                {
                    "type": "http.response.start",
                    "status": 304,
                    "headers": [(b"etag", etag.encode()), (b"cache-control", policy.encode())],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.decide(MutableHeaders(scope=message), message["status"], policy, etag)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def policy(self, scope: Scope, headers: Headers) -> str:
        """The Cache-Control for a 200 to this request, known before the app runs."""
        path: str = scope["path"]
        if path.startswith(PRIVATE_PATHS) or SESSION_COOKIE in cookie_names(headers):
            return PRIVATE
        if scope["method"] not in ("GET", "HEAD") or path.startswith(NEVER_STORED):
            return NO_STORE
        if b"lang=" in scope.get("query_string", b"") and asks_language(scope):
            return PRIVATE  # the answer remembers the language in a cookie: not for a shared cache
        return self.public

    async def etag(self, scope: Scope, headers: Headers) -> str | None:
        try:
            version = await run_in_threadpool(self.store.data_version)
        except RcmError:
            return None  # the app will say what is wrong; nothing to cache
        parts = (
            self.release,
            str(version),
            datetime.now(UTC).date().isoformat(),
            i18n.current.get(),
            scope.get("scheme", "http"),
            headers.get("host", ""),
            scope.get("root_path", ""),
            scope["path"],
            scope.get("query_string", b"").decode("latin-1"),
        )
        digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]
        return f'W/"{version}-{digest}"'

    def decide(self, out: MutableHeaders, status: int, policy: str, etag: str | None) -> None:
        """The answer's caching headers, once its status and the handler's own headers are known."""
        given = out.get("cache-control")
        if policy != self.public or "set-cookie" in out:
            out["Cache-Control"] = PRIVATE if policy == PRIVATE or "set-cookie" in out else policy
            if "etag" in out:
                del out["etag"]
            return
        if given is not None:
            return  # the handler knows better (a form with a CSRF token, an asset)
        if status in CACHEABLE and etag is not None:
            out["Cache-Control"] = policy
            out["ETag"] = etag
        elif status in (404, 410):
            out["Cache-Control"] = self.not_found
        else:
            out["Cache-Control"] = NO_STORE


def cookie_names(headers: Headers) -> set[str]:
    names = set()
    for header in headers.getlist("cookie"):
        for pair in header.split(";"):
            names.add(pair.split("=", 1)[0].strip())
    return names


def asks_language(scope: Scope) -> bool:
    """Whether the query sets the interface language (``?lang=es``): the answer sets a cookie."""
    from urllib.parse import parse_qsl

    query = scope.get("query_string", b"").decode("latin-1")
    return any(k == "lang" and v in i18n.LANGUAGES for k, v in parse_qsl(query))
