"""Request bodies read with a cap: the upload forms (a declaration, a questionnaire) stop reading
as soon as the body passes its limit, rather than spooling whatever is sent to disk first."""

from __future__ import annotations

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


async def capped_form(
    request: Request, max_bytes: int, *, max_fields: int, max_files: int = 1
) -> Any:
    """The request's form, refused with 413 once the body passes ``max_bytes`` (by its
    Content-Length, or counted as it arrives when there is none or it lies)."""
    length = request.headers.get("content-length", "")
    if length.isascii() and length.isdigit() and int(length) > max_bytes:
        raise too_large(max_bytes)
    receive = request.receive
    received = 0

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_bytes:
                raise too_large(max_bytes)
        return message

    return await StarletteRequest(request.scope, counted).form(
        max_files=max_files, max_fields=max_fields
    )
