"""The JSON API under /api/: the same data functions as the pages (``rcm.web.pages``), and its
documentation (Swagger UI served from the app, so that it works offline and under the CSP)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from swagger_ui_bundle import swagger_ui_path

from rcm.search import SearchParams
from rcm.web import pages
from rcm.web.deps import store, viewer
from rcm.web.params import PathInt

router = APIRouter()

# Swagger UI's own files (from the swagger-ui-bundle-v2 package, so that it works with no
# internet) and a start-up script served as a file: the CSP allows no inline script.
API_DOCS_ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "favicon-32x32.png": "image/png",
}
API_DOCS_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>RCM Compendium: API</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/api/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body>
</html>
"""


@router.get("/api/docs", include_in_schema=False)
def api_docs() -> Response:
    return HTMLResponse(API_DOCS_PAGE)


@router.get("/api/docs/{name}", include_in_schema=False)
def api_docs_asset(name: str) -> Response:
    if name not in API_DOCS_ASSETS:
        raise StarletteHTTPException(404)
    return FileResponse(
        Path(str(swagger_ui_path)) / name,
        media_type=API_DOCS_ASSETS[name],
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get(
    "/api/search",
    tags=["search"],
    summary="Search statements, with facet counts",
    openapi_extra={"parameters": SearchParams.openapi_parameters()},
)
def api_search(request: Request) -> JSONResponse:
    # The parameters are read by SearchParams (the same reader as the HTML page's) rather than
    # declared in the signature: the declarations' validation cost more than the search.
    params = SearchParams.from_query(request.query_params.multi_items())
    return JSONResponse(pages.search_page(store(request), params))


@router.get("/api/statements/{statement_id}", tags=["statements"], summary="One statement")
def api_statement(request: Request, statement_id: str) -> JSONResponse:
    return JSONResponse(pages.statement_page(store(request), statement_id, viewer(request)))


@router.get(
    "/api/statements/{statement_id}/history",
    tags=["statements"],
    summary="A statement's wordings and every audited change to it",
    description=(
        "Every version of the statement's wording (oldest first; `diff` is the word-by-word "
        "change from the version before) and every audited change (reworded, recategorised, "
        "re-placed, objectives, retired, unretired) with its date, its origin and what it was "
        "before and after. `actor` (the account that made it) is given to the Secretariat only, "
        "else null."
    ),
)
def api_statement_history(request: Request, statement_id: str) -> JSONResponse:
    return JSONResponse(pages.history_page(store(request), statement_id, viewer(request)))


@router.get("/api/themes", tags=["themes"], summary="The six themes, their sub-themes and counts")
def api_themes(request: Request) -> JSONResponse:
    return JSONResponse(pages.themes_page(store(request)))


@router.get(
    "/api/themes/{number}", tags=["themes"], summary="A theme's statements in document order"
)
def api_theme(request: Request, number: PathInt) -> JSONResponse:
    return JSONResponse(pages.theme_page(store(request), number))


@router.get("/api/themes/{number}/{order}", tags=["themes"], summary="One sub-theme's statements")
def api_subtheme(request: Request, number: PathInt, order: PathInt) -> JSONResponse:
    return JSONResponse(pages.subtheme_page(store(request), number, order))


@router.get(
    "/api/meetings", tags=["meetings"], summary="Meetings and how many statements each adopted"
)
def api_meetings(request: Request) -> JSONResponse:
    return JSONResponse(pages.meetings_page(store(request)))


@router.get("/api/meetings/{code}", tags=["meetings"], summary="What a meeting adopted (19 or XIX)")
def api_meeting(request: Request, code: str) -> JSONResponse:
    return JSONResponse(pages.meeting_page(store(request), code))


@router.get("/api/about", tags=["about"], summary="The source and its consistency report")
def api_about(request: Request) -> JSONResponse:
    return JSONResponse(pages.about_page(store(request)))


@router.get(
    "/api/gcm",
    tags=["gcm"],
    summary="Coverage matrix: GCM objectives × themes (statements serving each)",
)
def api_gcm(request: Request, source: str = "all") -> JSONResponse:
    return JSONResponse(pages.gcm_page(store(request), source))


@router.get("/api/gcm/{number}", tags=["gcm"], summary="The statements serving one GCM objective")
def api_objective(request: Request, number: PathInt) -> JSONResponse:
    return JSONResponse(pages.objective_page(store(request), number))
