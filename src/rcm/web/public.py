"""The public pages: home, statements, themes, meetings, about, the Global Compact view and the
health check. Each reads its input, calls one data function of ``rcm.web.pages``, renders."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from markupsafe import Markup

from rcm import taxonomy
from rcm.errors import NotFound, RcmError
from rcm.export import skos
from rcm.web import charts, i18n, pages
from rcm.web.deps import render, store, viewer
from rcm.web.params import PathInt, query_int

router = APIRouter(include_in_schema=False)


@router.get("/categories.css")
def categories_css() -> Response:
    """The category colours, from the taxonomy (the Word and Excel exports take the same)."""
    return Response(taxonomy.category_css(), media_type="text/css; charset=utf-8")


_VOCAB_TYPES = {"ttl": "text/turtle; charset=utf-8", "jsonld": "application/ld+json"}


@router.get("/vocab/{filename}")
def vocabulary(request: Request, filename: str) -> Response:
    """A SKOS vocabulary (docs/skos.md): /vocab/thesaurus.ttl, /vocab/gcm.jsonld, /vocab/all.ttl…
    Concept IRIs are this site's /vocab/ addresses."""
    name, _, ext = filename.rpartition(".")
    names = skos.VOCABULARIES if name == "all" else (name,)
    if ext not in _VOCAB_TYPES or not set(names) <= set(skos.VOCABULARIES):
        raise NotFound(f"no vocabulary {filename!r}: one of {', '.join(skos.VOCABULARIES)}, all")
    base = str(request.base_url) + "vocab/"
    body = skos.to_turtle(names, base) if ext == "ttl" else skos.to_jsonld(names, base)
    return Response(body, media_type=_VOCAB_TYPES[ext])


@router.get("/")
def home_html(request: Request) -> Response:
    return render(request, "home.html", data=pages.home(store(request)))


@router.get("/statements/{statement_id}")
def statement_html(request: Request, statement_id: str) -> Response:
    who = viewer(request)
    data = pages.statement_page(store(request), statement_id, who)
    saved = query_int(request.query_params.get("saved"))
    return render(
        request, "statement.html", data=data, can_edit=pages.is_secretariat(who), saved=saved
    )


@router.get("/themes")
def themes_html(request: Request) -> Response:
    return render(request, "themes.html", data=pages.themes_page(store(request)))


@router.get("/themes/{number}")
def theme_html(request: Request, number: PathInt) -> Response:
    return render(request, "theme.html", data=pages.theme_page(store(request), number))


@router.get("/themes/{number}/{order}")
def subtheme_html(request: Request, number: PathInt, order: PathInt) -> Response:
    data = pages.subtheme_page(store(request), number, order)
    return render(request, "theme.html", data=data)


@router.get("/meetings")
def meetings_html(request: Request) -> Response:
    return render(request, "meetings.html", data=pages.meetings_page(store(request)))


@router.get("/meetings/{code}")
def meeting_html(request: Request, code: str) -> Response:
    return render(request, "meeting.html", data=pages.meeting_page(store(request), code))


CATEGORY_COLUMNS = ["principle", "understanding", "commitment", "unassigned"]


@router.get("/about")
def about_html(request: Request) -> Response:
    data = pages.about_page(store(request))
    legend = {th["theme"]: f"TS{th['theme']}" for th in data["chart_categories"]}
    chart = Markup(
        charts.stacked_bars(
            [dict(r, label=i18n.meeting_label(r["code"])) for r in data["chart_meetings"]],
            i18n.gettext("Statements per meeting, by theme"),
            legend,
        )
    )
    labels = {
        "principle": i18n.gettext("principle"),
        "understanding": i18n.gettext("understanding"),
        "commitment": i18n.gettext("commitment"),
        "unassigned": i18n.gettext("not yet assigned"),
    }
    heat = Markup(
        charts.heat_table(
            data["chart_categories"], CATEGORY_COLUMNS, i18n.gettext("Themes by category"), labels
        )
    )
    return render(request, "about.html", data=data, chart=chart, heat=heat)


@router.get("/healthz")
def healthz(request: Request) -> Response:
    """For load balancers and monitors: 200 when the database answers and its schema is the one
    this rcm needs, else 503 saying which."""
    from rcm.store import migrate

    head = migrate.head_revision()
    try:
        current = store(request).revision()
    except RcmError as exc:
        return JSONResponse({"status": "error", "database": exc.message}, status_code=503)
    body = {"status": "ok", "database": "reachable", "schema": current, "expected": head}
    if current != head:
        body["status"] = "error"
        return JSONResponse(body, status_code=503)
    return JSONResponse(body)


# --- the Global Compact view -------------------------------------------------------------------


@router.get("/gcm")
def gcm_html(request: Request) -> Response:
    source = request.query_params.get("source", "all")
    return render(request, "gcm.html", data=pages.gcm_page(store(request), source))


@router.get("/gcm/{number}")
def objective_html(request: Request, number: PathInt) -> Response:
    return render(request, "objective.html", data=pages.objective_page(store(request), number))
