"""Request bodies read with a cap: the upload forms (a declaration, a questionnaire) stop reading
as soon as the body passes its limit, rather than spooling whatever is sent to disk first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from starlette.requests import Request as StarletteRequest
from starlette.types import Message

from rcm.errors import RcmError
from rcm.web import i18n


class TooLarge(RcmError):
    status = 413


def too_large(max_bytes: int) -> TooLarge:
    return TooLarge(
        i18n.gettext("The file is too large: at most %(size)s MB.")
        % {"size": f"{max_bytes / 1_000_000:g}"}
    )


def capped(
    request: Request, max_bytes: int, refusal: Callable[[], RcmError] | None = None
) -> StarletteRequest:
    """The request, its body refused (413, or ``refusal()``) once it passes ``max_bytes``: at
    once by its Content-Length, else counted as it arrives (when there is none or it lies)."""
    error = refusal or (lambda: too_large(max_bytes))
    length = request.headers.get("content-length", "")
    if length.isascii() and length.isdigit() and int(length) > max_bytes:
        raise error()
    receive = request.receive
    received = 0

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_bytes:
                raise error()
        return message

    return StarletteRequest(request.scope, counted)


async def capped_form(
    request: Request,
    max_bytes: int,
    *,
    max_fields: int,
    max_files: int = 1,
    refusal: Callable[[], RcmError] | None = None,
) -> Any:
    """The request's form, read through :func:`capped`."""
    return await capped(request, max_bytes, refusal).form(
        max_files=max_files, max_fields=max_fields
    )
