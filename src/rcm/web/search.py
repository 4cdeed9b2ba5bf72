"""The search page and its downloads (/search.csv, .json, .docx, .xlsx): the parameters are read
once, as ``rcm.search.SearchParams``, the same object as the API's and the CLI's."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from rcm.errors import RcmError
from rcm.search import SearchParams
from rcm.web import i18n, pages
from rcm.web.deps import render, store

router = APIRouter(include_in_schema=False)


def search_params(request: Request) -> SearchParams:
    return SearchParams.from_query(request.query_params.multi_items())


def attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get("/search")
def search_html(request: Request) -> Response:
    params = search_params(request)
    data, error, status = None, None, 200
    try:
        data = pages.search_page(store(request), params, i18n.current.get(), i18n.gettext)
        params = params.canonical()  # the links name each value as the facets do
    except RcmError as exc:
        if exc.status != 400:
            raise
        error, status = i18n.translated_markup(exc.template, exc.values), 400
    return render(
        request,
        "search.html",
        status=status,
        base_query=params.to_query(),
        data=data,
        params=params.form(),
        # the year fields' form keeps the rest of the search
        kept=[(k, v) for k, v in params.to_query() if k not in ("year", "page")],
        error=error,
    )


def download(request: Request, fmt: str, basename: str) -> Response:
    """A search's result in a registered export format (``rcm.export.registry``)."""
    from rcm.export.registry import export_selection

    db = store(request)
    hits, data = pages.all_hits(db, search_params(request))
    body, media_type, name = export_selection(
        db,
        fmt,
        [h["id"] for h in hits],
        str(data.get("filter") or ""),
        basename,
        lang=i18n.current.get(),  # a Word or Excel file in the page's language
    )
    return Response(body, media_type=media_type, headers=attachment(name))


@router.get("/search.csv")
def search_csv(request: Request) -> Response:
    return download(request, "csv", "rcm-search")


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
    return download(request, "docx", "rcm-compilation")


@router.get("/search.xlsx")
def search_xlsx(request: Request) -> Response:
    return download(request, "xlsx", "rcm-compendium")
