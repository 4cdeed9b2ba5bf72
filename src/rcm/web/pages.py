"""One data function per page. Each returns plain, JSON-ready data; the HTML page, its JSON twin
under /api/ and the downloads are all rendered from it."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

from rcm import gcm
from rcm.check import KINDS, check_compendium
from rcm.cite import citation, citation_data
from rcm.consult import visible_history
from rcm.errors import NotFound, RcmError
from rcm.export import statement_dict
from rcm.model import (
    Meeting,
    Placement,
    Provenance,
    Statement,
    meeting_order,
    parse_meeting,
    span_text,
)
from rcm.search import (
    MAX_OFFSET,
    MAX_PAGE_SIZE,
    SearchParams,
    related,
    search,
)
from rcm.store import Store


def _statement(
    s: Statement, placements: list[Placement], meeting: Meeting, titles: dict[tuple[int, int], str]
) -> dict[str, Any]:
    data = statement_dict(s, meeting, placements, titles)
    data["themes"] = sorted({p.theme for p in placements})
    return data


def home(store: Store) -> dict[str, Any]:
    counts = store.counts()
    per_theme = {row["theme"]: row for row in counts["themes"]}
    return {
        "statements": counts["statements"],
        "placements": counts["placements"],
        "meetings": sum(1 for m in counts["meetings"] if m["statements"]),
        "themes": [
            {
                "number": th.number,
                "code": th.code,
                "title": th.title,
                "un_title": th.un_title,
                "statements": per_theme.get(th.number, {}).get("statements", 0),
                "subthemes": [{"order": s.order, "title": s.title} for s in th.subthemes],
            }
            for th in store.themes()
        ],
    }


def search_page(store: Store, params: SearchParams) -> dict[str, Any]:
    """One page of a search's hits, with the facets and paging."""
    params.check()
    result = search(store, params.to_request(store))
    data = result.as_dict()
    data["page"] = params.page
    data["pages"] = max(1, -(-result.total // params.size))
    data["size"] = params.size
    return data


def all_hits(store: Store, params: SearchParams) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every hit of a search (up to MAX_OFFSET), for the downloads, and its first page's data."""
    params = replace(params, page=1, size=MAX_PAGE_SIZE)
    first = search_page(store, params)
    hits = list(first["hits"])
    while len(hits) < first["total"] and len(hits) < MAX_OFFSET:
        params = replace(params, page=params.page + 1)
        hits += search_page(store, params)["hits"]
    return hits, first


def statement_page(store: Store, statement_id: str, viewer: Any = None) -> dict[str, Any]:
    """``viewer`` is the signed-in user (or None): the Member Countries' answers are shown only to
    those who may see them (``rcm.consult.visible_history``)."""
    statement, placements = store.statement(statement_id)
    meeting = store.meeting(statement.meeting)
    titles = store.subtheme_titles()
    categories = {c.category.value: c for c in store.categories()}
    data = _statement(statement, placements, meeting, titles)
    category = categories.get(data["category"] or "")
    data["category_definition"] = category.definition if category else None
    document = store.document_of(statement.id)
    data["citation"] = citation(statement, meeting, document)
    data["cite"] = citation_data(statement, meeting, document)
    data["source"] = document.key if document else None
    data["document"] = document.as_dict() if document else None
    data["meeting_place"], data["meeting_date"] = meeting.place, meeting.date
    titles_gcm = gcm.objective_titles(store)
    data["objectives"] = [
        {
            "number": x.objective,
            "title": titles_gcm[x.objective],
            "source": x.source.value,
            "score": x.score,
        }
        for x in gcm.objective_links(store, statement.id)
    ]
    data["opinions"] = visible_history(store, statement.id, viewer)
    data["related"] = [
        {"id": h.id, "meeting_label": h.meeting_label, "year": h.year, "text": h.text}
        for h in related(store, statement.id, limit=5).hits
    ]
    return data


def theme_page(store: Store, number: int) -> dict[str, Any]:
    theme = next((th for th in store.themes() if th.number == number), None)
    if theme is None:
        raise NotFound(f"no theme {number}: the themes are 1 to 6")
    meetings = {m.code: m for m in store.meetings()}
    titles = store.subtheme_titles()
    rows = store.statements_in_theme(number)
    sections = []
    for sub in theme.subthemes:
        entries = []
        for s, placements in rows:
            for p in placements:
                if (p.theme, p.subtheme) == (number, sub.order):
                    entries.append(
                        (p.position, _statement(s, placements, meetings[s.meeting], titles), p)
                    )
        entries.sort(key=lambda e: e[0])
        sections.append(
            {
                "order": sub.order,
                "title": sub.title,
                "page": sub.page,
                "statements": [
                    dict(data, note=p.note, position=p.position, also_here=list(p.also_relevant))
                    for _, data, p in entries
                ],
            }
        )
    return {
        "number": theme.number,
        "code": theme.code,
        "title": theme.title,
        "un_title": theme.un_title,
        "consultation": theme.consultation,
        "subthemes": sections,
    }


def subtheme_page(store: Store, number: int, order: int) -> dict[str, Any]:
    data = theme_page(store, number)
    chosen = [s for s in data["subthemes"] if s["order"] == order]
    if not chosen:
        raise NotFound(f"no sub-theme {order} under theme {number}")
    return dict(data, subthemes=chosen, subtheme=chosen[0]["title"])


def meeting_number(value: str) -> str:
    """A meeting code from what a URL holds: "19", "XIX", "xix", "XXV-E1" (read by
    :func:`rcm.model.parse_meeting`)."""
    try:
        return parse_meeting(value).code
    except ValueError:
        raise NotFound(f"no meeting {value!r}: write it as 19, XIX or XXV-E1") from None


def _meeting(meeting: Meeting, provenance: Provenance) -> dict[str, Any]:
    """A meeting with its place, date and the document it comes from."""
    document = provenance.of_meeting(meeting.code)
    return {
        "code": meeting.code,
        "number": meeting.number,
        "label": meeting.label,
        "year": meeting.year,
        "kind": meeting.kind.value,
        "place": meeting.place,
        "date": meeting.date,
        "source": document.key if document else None,
        "document": document.as_dict() if document else None,
    }


def meetings_page(store: Store) -> dict[str, Any]:
    counts = {m["meeting"]: m["statements"] for m in store.counts()["meetings"]}
    provenance = store.provenance()
    return {
        "meetings": [
            _meeting(m, provenance) | {"statements": counts.get(m.code, 0)}
            for m in store.meetings()
        ]
    }


def meeting_page(store: Store, value: str) -> dict[str, Any]:
    code = meeting_number(value)
    meeting = store.meeting(code)
    titles = store.subtheme_titles()
    rows = store.statements_of_meeting(code)
    return _meeting(meeting, store.provenance()) | {
        "statements": [_statement(s, p, meeting, titles) for s, p in rows],
    }


def themes_page(store: Store) -> dict[str, Any]:
    return {"themes": home(store)["themes"]}


def about_page(store: Store) -> dict[str, Any]:
    compendium = store.load()
    findings = check_compendium(compendium)
    meetings = {m.code: m for m in compendium.meetings}
    per_meeting: dict[str, Counter[int]] = {m.code: Counter() for m in compendium.meetings}
    per_category: dict[int, Counter[str]] = {th.number: Counter() for th in compendium.themes}
    seen: set[tuple[str, int]] = set()
    category_of = {
        s.id: (s.category.value if s.category else "unassigned") for s in compendium.statements
    }
    meeting_of = {s.id: s.meeting for s in compendium.statements}
    for p in compendium.placements:
        if (p.statement_id, p.theme) in seen:
            continue
        seen.add((p.statement_id, p.theme))
        per_meeting[meeting_of[p.statement_id]][p.theme] += 1
        per_category[p.theme][category_of[p.statement_id]] += 1
    return {
        "covers": span_text(compendium.span()),
        "documents": [d.as_dict() for d in compendium.documents()],
        "source": {
            "name": compendium.source.name,
            "title": compendium.source.title,
            "date": compendium.source.date,
            "sha256": compendium.source.sha256,
            "lines": compendium.source.lines,
        },
        "statements": len(compendium.statements),
        "placements": len(compendium.placements),
        "categories": [
            {"name": c.category.value, "label": c.label, "definition": c.definition}
            for c in compendium.categories
        ],
        "kinds": KINDS,
        "findings": [f.as_dict() for f in findings],
        "chart_meetings": [
            {
                "code": code,
                "label": meetings[code].label,
                "year": meetings[code].year,
                "themes": {str(k): v for k, v in sorted(c.items())},
            }
            for code, c in sorted(per_meeting.items(), key=lambda kv: meeting_order(kv[0]))
        ],
        "chart_categories": [
            {"theme": th, "counts": dict(c)} for th, c in sorted(per_category.items())
        ],
    }


def gcm_page(store: Store, source: str = "all") -> dict[str, Any]:
    """The coverage matrix: GCM objectives × themes, how many statements serve each."""
    if source not in gcm.SOURCES:
        raise RcmError(f"source must be one of {', '.join(gcm.SOURCES)}")
    data = gcm.coverage(store, source).as_dict()
    data["max_cell"] = max(
        (n for o in data["objectives"] for n in o["by_theme"].values()), default=0
    )
    return data


def objective_page(store: Store, number: int) -> dict[str, Any]:
    """The statements that serve one GCM objective, oldest first, with how the link was made."""
    titles = gcm.objective_titles(store)
    if number not in titles:
        raise NotFound(f"no GCM objective {number}: the objectives are 1 to 23")
    links = {
        x.statement_id: (x.source.value, x.score, x.rank) for x in store.objective_links_to(number)
    }
    meetings = {m.code: m for m in store.meetings()}
    subtitles = store.subtheme_titles()
    rows = store.statements_by_ids(list(links))
    statements = []
    for statement, placements in rows:
        item = _statement(statement, placements, meetings[statement.meeting], subtitles)
        source, score, rank = links[statement.id]
        item.update(link_source=source, link_score=score, link_rank=rank)
        statements.append(item)
    statements.sort(key=lambda x: (x["meeting"], x["id"]))
    return {
        "number": number,
        "title": titles[number],
        "statements": statements,
        "curated": sum(1 for x in statements if x["link_source"] == "curated"),
    }
