"""The search page and its downloads (/search.csv, .json, .docx, .xlsx): the parameters are read
once, as ``rcm.search.SearchParams``, the same object as the API's and the CLI's.

CSV and JSON are streamed: the matches are read ``rcm.search.DOWNLOAD_BATCH`` at a time from one
snapshot of the data (``Store.snapshot``) and written as they come, so a download of every
statement costs a worker one batch of memory. A Word or Excel file is built whole in memory: it
holds at most ``DOCUMENT_CAP`` statements, a broader search is refused with a message that says
to narrow it or to download CSV or JSON."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from rcm.errors import RcmError
from rcm.export import CSV_COLUMNS, csv_row
from rcm.export.cells import csv_lines
from rcm.search import Hit, SearchParams, stream_hits
from rcm.store import Store
from rcm.web import i18n, pages
from rcm.web.deps import render, store

router = APIRouter(include_in_schema=False)

#: The most statements a Word or Excel download of a search holds (built whole in memory).
DOCUMENT_CAP = 5_000


class TooBroad(RcmError):
    """A search with more matches than a Word or Excel download holds."""

    status = 400


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


class Download:
    """A search's matches read from one snapshot: ``data`` (the first page's: total, facets,
    sentence) is read at once, so that a bad search is an error before anything is sent; then
    ``batches()`` gives every match, a batch at a time, and closes the snapshot at its end (or
    when the response is abandoned and the generator closed)."""

    def __init__(self, db: Store, params: SearchParams, lang: str = "en") -> None:
        self.db = db
        self.stack = ExitStack()
        try:
            self.conn = self.stack.enter_context(db.snapshot())
            # the sentence in ``lang``: a document says what was searched in its own language
            self.data = pages.download_page(db, params, self.conn, lang, i18n.gettext)
            self.request = replace(params, page=1).to_request(db)
        except BaseException:
            self.stack.close()
            raise

    def batches(self) -> Iterator[list[Hit]]:
        with self.stack:
            yield from stream_hits(self.db, self.request, self.conn)


def download(request: Request, fmt: str, basename: str) -> Response:
    """A search's result as a Word or Excel file (``rcm.export.registry``), up to DOCUMENT_CAP
    statements."""
    from rcm.export.registry import export_selection

    db = store(request)
    found = Download(db, search_params(request), i18n.current.get())
    total = int(found.data["total"])
    if total > DOCUMENT_CAP:
        found.stack.close()
        raise TooBroad(
            "This search finds %(n)s statements; a Word or Excel file holds at most %(cap)s. "
            "Narrow the search, or download it as CSV or JSON (any number of statements).",
            n=total,
            cap=DOCUMENT_CAP,
        )
    ids = [h.id for batch in found.batches() for h in batch]
    body, media_type, name = export_selection(
        db,
        fmt,
        ids,
        str(found.data.get("filter") or ""),
        basename,
        lang=i18n.current.get(),  # a Word or Excel file in the page's language
    )
    return Response(body, media_type=media_type, headers=attachment(name))


@router.get("/search.csv")
def search_csv(request: Request) -> Response:
    """Every match, one CSV row each (``rcm.export.csv_row``), in the search's order."""
    db = store(request)
    found = Download(db, search_params(request))

    def rows() -> Iterator[bytes]:
        yield csv_lines([CSV_COLUMNS]).encode()
        meetings = db.meetings_in(found.conn)
        titles = db.subtheme_titles_in(found.conn)
        for batch in found.batches():
            records = db.export_rows(found.conn, [h.id for h in batch])
            lines = [csv_row(s, ps, meetings[s.meeting], titles, xs) for s, ps, xs in records]
            yield csv_lines(lines).encode()

    return StreamingResponse(
        rows(), media_type="text/csv; charset=utf-8", headers=attachment("rcm-search.csv")
    )


@router.get("/search.json")
def search_json(request: Request) -> Response:
    """The search's first page's data with every match as ``hits``: the same document as
    ``json.dumps(..., indent=2)`` of it, written a batch of hits at a time."""
    found = Download(store(request), search_params(request))
    total = found.data["total"]
    marker = f"rcm-hits-{uuid.uuid4().hex}"
    data: dict[str, Any] = dict(found.data, hits=marker, offset=0, limit=total, page=1, pages=1)
    head, tail = json.dumps(data, ensure_ascii=False, indent=2).split(json.dumps(marker), 1)

    def parts() -> Iterator[bytes]:
        yield (head + "[").encode()
        first = True
        for batch in found.batches():
            items = []
            for hit in batch:
                item = json.dumps(hit.as_dict(), ensure_ascii=False, indent=2)
                items.append(("\n    " if first else ",\n    ") + item.replace("\n", "\n    "))
                first = False
            yield "".join(items).encode()
        yield (("]" if first else "\n  ]") + tail).encode()

    return StreamingResponse(
        parts(), media_type="application/json", headers=attachment("rcm-search.json")
    )


@router.get("/search.docx")
def search_docx(request: Request) -> Response:
    return download(request, "docx", "rcm-compilation")


@router.get("/search.xlsx")
def search_xlsx(request: Request) -> Response:
    return download(request, "xlsx", "rcm-compendium")
