"""The search page and its downloads (/search.csv, .json, .docx, .xlsx): the parameters are read
once, as ``rcm.search.SearchParams``, the same object as the API's and the CLI's."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from rcm.errors import RcmError
from rcm.search import SearchParams
from rcm.web import pages
from rcm.web.deps import render, store

router = APIRouter(include_in_schema=False)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def search_params(request: Request) -> SearchParams:
    return SearchParams.from_query(request.query_params.multi_items())


def attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get("/search")
def search_html(request: Request) -> Response:
    params = search_params(request)
    data, error, status = None, None, 200
    try:
        data = pages.search_page(store(request), params)
    except RcmError as exc:
        if exc.status != 400:
            raise
        error, status = exc.message, 400
    return render(
        request,
        "search.html",
        status=status,
        base_query=params.to_query(),
        data=data,
        params=params.form(),
        error=error,
    )


@router.get("/search.csv")
def search_csv(request: Request) -> Response:
    from rcm.export.cells import csv_text

    hits, _ = pages.all_hits(store(request), search_params(request))
    body = csv_text(
        ["id", "meeting", "year", "themes", "category", "text"],
        (
            [
                h["id"],
                h["meeting_label"],
                h["year"],
                " ".join(f"TS{t}" for t in h["themes"]),
                h["category"] or "",
                h["text"],
            ]
            for h in hits
        ),
    )
    return PlainTextResponse(
        body, media_type="text/csv; charset=utf-8", headers=attachment("rcm-search.csv")
    )


@router.get("/search.json")
def search_json(request: Request) -> Response:
    hits, data = pages.all_hits(store(request), search_params(request))
    data = dict(data, hits=hits, offset=0, limit=len(hits), page=1, pages=1)
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers=attachment("rcm-search.json"),
    )


@router.get("/search.docx")
def search_docx(request: Request) -> Response:
    from rcm.export.docx import compilation_docx

    compendium, sentence = focused(request)
    return Response(
        compilation_docx(compendium, selection=sentence or None),
        media_type=DOCX,
        headers=attachment("rcm-compilation.docx"),
    )


@router.get("/search.xlsx")
def search_xlsx(request: Request) -> Response:
    from rcm.export.xlsx import compendium_xlsx

    compendium, _ = focused(request)
    return Response(
        compendium_xlsx(compendium), media_type=XLSX, headers=attachment("rcm-compendium.xlsx")
    )


def focused(request: Request) -> tuple[Any, str]:
    """The compendium reduced to a search result, for the Word and Excel downloads."""
    return pages.focused_compendium(store(request), search_params(request))
