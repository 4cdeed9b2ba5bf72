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
        raise NotFound(
            "no vocabulary %(name)s: one of %(valid)s, all",
            name=repr(filename),
            valid=", ".join(skos.VOCABULARIES),
        )
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


CATEGORIES = ["principle", "understanding", "commitment"]


def finding_headings() -> dict[str, str]:
    """The consistency report's groups (``rcm.check.KINDS``), each headed by what it means for a
    reader, in the reader's language. A kind missing here is headed by the core's sentence."""
    return {
        "note-names-unplaced-theme": i18n.gettext(
            "A note says the statement is also relevant for a theme, but the statement is not "
            "filed under that theme"
        ),
        "placed-without-note": i18n.gettext(
            "The statement is filed under a theme that the note on one of its copies does not "
            "mention"
        ),
        "notes-disagree": i18n.gettext(
            "Copies of the same statement carry notes that name different themes"
        ),
        "meeting-order": i18n.gettext("A row is out of meeting order within its table"),
        "possible-copy": i18n.gettext(
            "Two statements of the same meeting are almost the same text but were kept apart"
        ),
        "repeated-in-section": i18n.gettext(
            "A statement appears twice in the same sub-theme table"
        ),
        "source-notice": i18n.gettext(
            "Text in the document that is not a statement (kept and reported)"
        ),
    }


def _leaders(counts: dict[str, int]) -> tuple[list[str], int]:
    """The keys with the highest count (all of them on a tie) and that count."""
    peak = max(counts.values(), default=0)
    return [k for k, n in counts.items() if n == peak and peak], peak


def _point(leaders: list[str], n: int, total: int, one: str, many: str, none: str) -> str:
    """A chart's title: the point it makes (``one`` leader, ``many`` on a tie, ``none`` without
    data), each already in the reader's language."""
    if not leaders:
        return none
    if len(leaders) == 1:
        return one % {"name": leaders[0], "n": n, "total": total}
    return many % {"names": ", ".join(leaders), "n": n, "total": total}


@router.get("/about")
def about_html(request: Request) -> Response:
    data = pages.about_page(store(request))
    total = data["statements"]
    # 1. Which meeting gave the compendium the most statements.
    per_meeting = {i18n.meeting_label(r["code"]): r["statements"] for r in data["chart_meetings"]}
    leaders, n = _leaders(per_meeting)
    meeting_title = _point(
        leaders,
        n,
        total,
        i18n.gettext("%(name)s adopted the most statements: %(n)s of %(total)s."),
        i18n.gettext("%(names)s adopted the most statements: %(n)s each."),
        i18n.gettext("Statements per meeting"),
    )
    meetings_chart = charts.column_chart(
        [
            {"label": r["code"], "name": i18n.meeting_label(r["code"]), "value": r["statements"]}
            for r in data["chart_meetings"]
        ],
        meeting_title,
    )
    # 2. Which theme holds the most statements.
    per_theme = {
        f"TS{r['theme']} — {i18n.label('theme', r['theme'])}": r["statements"]
        for r in data["chart_categories"]
    }
    leaders, n = _leaders(per_theme)
    theme_title = _point(
        leaders,
        n,
        total,
        i18n.gettext("%(name)s has the most statements: %(n)s."),
        i18n.gettext("%(names)s have the most statements: %(n)s each."),
        i18n.gettext("Statements per theme"),
    )
    themes_chart = charts.bar_list(
        [{"label": k, "value": v} for k, v in per_theme.items()], theme_title
    )
    # 3. Which category is the most frequent ("not yet assigned" only when some are).
    totals = data["category_totals"]
    columns = CATEGORIES + (["unassigned"] if totals.get("unassigned") else [])
    names = {c: i18n.gettext(c) for c in CATEGORIES} | {
        "unassigned": i18n.gettext("not yet assigned")
    }
    per_category = {names[c]: totals.get(c, 0) for c in columns}
    leaders, n = _leaders({k: v for k, v in per_category.items() if k != names["unassigned"]})
    category_title = _point(
        leaders,
        n,
        total,
        i18n.gettext("The most frequent category is “%(name)s”: %(n)s of %(total)s statements."),
        i18n.gettext("The most frequent categories are %(names)s: %(n)s statements each."),
        i18n.gettext("Statements per category"),
    )
    categories_chart = charts.bar_list(
        [{"label": k, "value": v} for k, v in per_category.items()], category_title
    )
    known = finding_headings()
    headings = {kind: known.get(kind, meaning) for kind, meaning in data["kinds"].items()}
    return render(
        request,
        "about.html",
        data=data,
        charts=[
            (meeting_title, Markup(meetings_chart), "meetings"),
            (theme_title, Markup(themes_chart), "themes"),
            (category_title, Markup(categories_chart), "categories"),
        ],
        category_columns=columns,
        headings=headings,
    )


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
