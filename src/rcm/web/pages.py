"""One data function per page. Each returns plain, JSON-ready data; the HTML page, its JSON twin
under /api/ and the downloads are all rendered from it."""

from __future__ import annotations

import threading
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from difflib import SequenceMatcher
from typing import Any

from rcm import gcm, translate
from rcm.audit import AuditEvent
from rcm.check import KINDS, check_compendium
from rcm.cite import citation, citation_data
from rcm.consult import is_published, rounds_about, visible_history
from rcm.edit import ACTION_KINDS, history, last_event
from rcm.errors import NotFound, RcmError
from rcm.export import statement_dict
from rcm.model import (
    LANGUAGES,
    Meeting,
    Placement,
    Provenance,
    Statement,
    meeting_order,
    parse_meeting,
    span_text,
    wording,
)
from rcm.review import proposal
from rcm.search import (
    LISTS,
    MAX_PAGE_SIZE,
    SearchParams,
    related,
    search,
    selected_filters,
)
from rcm.store import Store
from rcm.translate import TRANSLATION_KINDS
from rcm.users import Forbidden, User, check_secretariat


def _statement(
    s: Statement, placements: list[Placement], meeting: Meeting, titles: dict[tuple[int, int], str]
) -> dict[str, Any]:
    data = statement_dict(s, meeting, placements, titles)
    data["themes"] = sorted({p.theme for p in placements})
    data["meeting_place"], data["meeting_date"] = meeting.place, meeting.date
    return data


def note_text(note: str | None) -> str | None:
    """A cross-reference note as plain text for reading: the source's emphasis asterisks dropped
    ("*Statement also relevant for TS3*" -> "Statement also relevant for TS3"). For display only:
    the store and the exports keep the note as printed."""
    if not note:
        return None
    return " ".join(note.replace("*", " ").split()) or None


def _note(p: Placement, themes: set[int]) -> dict[str, Any] | None:
    """What a placement's note says, for a page to put in the reader's language: the other themes
    it names (``also``), whether that is every other theme, and the note as plain text."""
    printed = note_text(p.note)
    if printed is None and not p.also_relevant:
        return None
    also = sorted(set(p.also_relevant))
    others = themes - {p.theme}
    return {
        "printed": printed,
        "also": also,
        "all_others": bool(also) and bool(others) and set(also) >= others,
    }


def _note_key(note: dict[str, Any]) -> tuple[Any, ...]:
    """Notes that say the same thing ("*TS3*", "*Statement also relevant for TS3*") are one."""
    if note["all_others"]:
        return ("all",)
    return tuple(note["also"]) if note["also"] else (note["printed"],)


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


def search_page(
    store: Store,
    params: SearchParams,
    lang: str = "en",
    gettext: Callable[[str], str] | None = None,
    conn: Any = None,
) -> dict[str, Any]:
    """One page of a search's hits, with the facets and paging; the sentence saying what was
    asked in ``lang`` when a ``gettext`` for it is given (``SearchResult.sentence_in``).
    ``conn``: an open connection to read on (a download's snapshot)."""
    params.check()
    result = search(store, params.to_request(store), conn)
    data = result.as_dict()
    if gettext is not None and lang != "en":
        data["filter"] = result.sentence_in(lang, gettext)
    # The filters as "selected filters", each with the value its parameter keeps without it
    # (a list's other values; None removes a meeting, year or "several themes" filter).
    canonical = params.canonical()
    data["selected"] = [
        dict(
            chosen,
            remove=[v for v in getattr(canonical, chosen["param"]) if v != chosen["value"]]
            if chosen["param"] in LISTS
            else None,
        )
        for chosen in selected_filters(result, lang, gettext or (lambda message: message))
    ]
    # The year fields: the years the other filters leave (the living compendium's new meetings
    # too), and the range chosen.
    chosen_years = next((f.args for f in result.filters if f.kind == "year"), ("", ""))
    data["year_range"] = {"from": chosen_years[0], "to": chosen_years[1]}
    data["years"] = sorted(
        {int(v.value) for v in result.facets.get("year", [])} | {int(y) for y in chosen_years if y}
    )
    data["page"] = params.page
    data["pages"] = max(1, -(-result.total // params.size))
    data["size"] = params.size
    return data


def download_page(
    store: Store,
    params: SearchParams,
    conn: Any,
    lang: str = "en",
    gettext: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """A download's first page (its facets, total and sentence, the sentence in ``lang`` when a
    ``gettext`` is given), read on its snapshot; the matches themselves come from
    ``rcm.search.stream_hits``."""
    return search_page(store, replace(params, page=1, size=MAX_PAGE_SIZE), lang, gettext, conn=conn)


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
    themes = {th.number for th in store.themes()}
    data["notes"] = _distinct_notes(placements, themes)
    data["breadcrumb"] = _breadcrumb(placements, titles)
    rounds = rounds_about(store, statement.id, viewer)
    data["rounds"] = [
        {
            "id": r.id,
            "title": r.title,
            "state": r.state,
            "deadline": r.deadline,
            "public": r.public,
            "published": is_published(r),
        }
        for r in rounds
    ]
    data["signed_in"] = viewer is not None
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
    data.update(_versioning(store, statement))
    data["related"] = [
        {
            "id": h.id,
            "meeting_label": h.meeting_label,
            "year": h.year,
            "text": h.text,
            "lang": h.lang,
        }
        for h in related(store, statement.id, limit=5).hits
    ]
    data["wordings"] = wordings(statement, translate.accepted_versions(store, statement.id))
    return data


def _distinct_notes(placements: list[Placement], themes: set[int]) -> list[dict[str, Any]]:
    """A statement's notes, each once (its copies often carry the same one), with every way the
    compilation printed it."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for p in sorted(placements, key=lambda p: (p.theme, p.subtheme)):
        note = _note(p, themes)
        if note is None:
            continue
        seen = out.setdefault(_note_key(note), {**note, "printed": []})
        if note["printed"] and note["printed"] not in seen["printed"]:
            seen["printed"].append(note["printed"])
    return list(out.values())


def _breadcrumb(placements: list[Placement], titles: dict[tuple[int, int], str]) -> dict[str, Any]:
    """Where the statement's page sits: its first theme and sub-theme (None when it is filed
    nowhere; the page then leads to its meeting)."""
    if not placements:
        return {"theme": None}
    p = min(placements, key=lambda p: (p.theme, p.subtheme, p.position))
    return {"theme": p.theme, "subtheme": p.subtheme, "title": titles.get((p.theme, p.subtheme))}


def wordings(statement: Statement, accepted: dict[str, int]) -> list[dict[str, Any]]:
    """The statement's wordings side by side: its own first, then the other language's where it
    has one, each with its ``lang`` (the page marks each block with it); ``for_version`` where
    the parallel wording was accepted for an earlier version than the statement's."""
    out: list[dict[str, Any]] = [
        {
            "lang": statement.lang,
            "text": statement.text,
            "heading": statement.heading,
            "items": list(statement.items),
            "own": True,
        }
    ]
    for lang in LANGUAGES:
        text = wording(statement, lang)
        if lang != statement.lang and text:
            earlier = accepted.get(lang)
            out.append(
                {
                    "lang": lang,
                    "text": text,
                    "heading": None,
                    "items": [],
                    "own": False,
                    "for_version": earlier if earlier and earlier < statement.version else None,
                }
            )
    return out


def _versioning(store: Store, statement: Statement) -> dict[str, Any]:
    """The statement's wording version, when it was last reworded, and its retirement."""
    reworded = None
    if statement.version > 1:
        reworded = history(store, statement.id).versions[-1].at.isoformat(timespec="seconds")
    retired = statement.retired_at
    return {
        "version": statement.version,
        "reworded_at": reworded,
        "retired_at": retired.isoformat(timespec="seconds") if retired else None,
    }


def theme_page(store: Store, number: int) -> dict[str, Any]:
    theme = next((th for th in store.themes() if th.number == number), None)
    if theme is None:
        raise NotFound("no theme %(n)s: the themes are 1 to 6", n=number)
    meetings = {m.code: m for m in store.meetings()}
    titles = store.subtheme_titles()
    rows = store.statements_in_theme(number)
    numbers = {th.number for th in store.themes()}
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
        # A note is said once under its table; each row carries its number (``note_ref``).
        notes: dict[tuple[Any, ...], dict[str, Any]] = {}
        statements = []
        for _, data, p in entries:
            note = _note(p, numbers)
            ref = None
            if note is not None:
                ref = notes.setdefault(_note_key(note), {**note, "n": len(notes) + 1})["n"]
            statements.append(
                dict(
                    data,
                    note=p.note,
                    note_ref=ref,
                    position=p.position,
                    also_here=list(p.also_relevant),
                )
            )
        sections.append(
            {
                "order": sub.order,
                "title": sub.title,
                "page": sub.page,
                "statements": statements,
                "notes": list(notes.values()),
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
        raise NotFound("no sub-theme %(order)s under theme %(n)s", order=order, n=number)
    return dict(data, subthemes=chosen, subtheme=chosen[0]["title"])


def meeting_number(value: str) -> str:
    """A meeting code from what a URL holds: "19", "XIX", "xix", "XXV-E1" (read by
    :func:`rcm.model.parse_meeting`)."""
    try:
        return parse_meeting(value).code
    except ValueError:
        raise NotFound(
            "no meeting %(value)s: write it as 19, XIX or XXV-E1", value=repr(value)
        ) from None


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
    ordered = sorted(store.meetings(), key=lambda m: meeting_order(m.code))
    at = next(i for i, m in enumerate(ordered) if m.code == meeting.code)
    provenance = store.provenance()
    return _meeting(meeting, provenance) | {
        "statements": [_statement(s, p, meeting, titles) for s, p in rows],
        "previous": _meeting(ordered[at - 1], provenance) if at > 0 else None,
        "next": _meeting(ordered[at + 1], provenance) if at + 1 < len(ordered) else None,
    }


def themes_page(store: Store) -> dict[str, Any]:
    return {"themes": home(store)["themes"]}


# Data computed from the whole compendium, kept per store until the data version changes
# (``rcm.store.versioning``: every committed write of shown data bumps it): name -> (version,
# data). The version is read BEFORE the data, so what is kept under version v is at least as new
# as v; the next request after any write (in this process or another) computes it again.
_BY_VERSION: weakref.WeakKeyDictionary[Store, dict[str, tuple[int, Any]]] = (
    weakref.WeakKeyDictionary()
)
_BY_VERSION_LOCK = threading.Lock()


def per_data_version(store: Store, name: str, compute: Callable[[Store], Any]) -> Any:
    """``compute(store)``, computed once per data version of ``store`` (the value is shared by
    every request that reads it: never changed by a caller). A store whose version cannot be
    read computes every time."""
    try:
        version = store.data_version()
    except RcmError:
        return compute(store)
    with _BY_VERSION_LOCK:
        kept = _BY_VERSION.setdefault(store, {}).get(name)
    if kept is not None and kept[0] == version:
        return kept[1]
    value = compute(store)
    with _BY_VERSION_LOCK:
        _BY_VERSION.setdefault(store, {})[name] = (version, value)
    return value


def about_page(store: Store) -> dict[str, Any]:
    """The source, the consistency report (``check_compendium``) and the figures of the charts:
    computed from the whole compendium, so once per data version."""
    result: dict[str, Any] = per_data_version(store, "about", _about_page)
    return result


def _about_page(store: Store) -> dict[str, Any]:
    compendium = store.load()
    findings = check_compendium(compendium)
    meetings = {m.code: m for m in compendium.meetings}
    per_meeting: dict[str, Counter[int]] = {m.code: Counter() for m in compendium.meetings}
    per_category: dict[int, Counter[str]] = {th.number: Counter() for th in compendium.themes}
    statements_of = Counter(s.meeting for s in compendium.statements)
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
                "statements": statements_of[code],
                "themes": {str(k): v for k, v in sorted(c.items())},
            }
            for code, c in sorted(per_meeting.items(), key=lambda kv: meeting_order(kv[0]))
        ],
        "chart_categories": [
            {"theme": th, "counts": dict(c), "statements": sum(c.values())}
            for th, c in sorted(per_category.items())
        ],
        "category_totals": dict(Counter(category_of.values())),
    }


def gcm_page(store: Store, source: str = "all") -> dict[str, Any]:
    """The coverage matrix: GCM objectives × themes, how many statements serve each."""
    if source not in gcm.SOURCES:
        raise RcmError("source must be one of %(valid)s", valid=", ".join(gcm.SOURCES))
    data = gcm.coverage(store, source).as_dict()
    data["max_cell"] = max(
        (n for o in data["objectives"] for n in o["by_theme"].values()), default=0
    )
    return data


def objective_page(store: Store, number: int) -> dict[str, Any]:
    """The statements that serve one GCM objective, oldest first, with how the link was made."""
    titles = gcm.objective_titles(store)
    if number not in titles:
        raise NotFound("no GCM objective %(n)s: the objectives are 1 to 23", n=number)
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


# --- a statement's history and its editing form -------------------------------------------------
# What anyone may see of a statement's history: every wording (the statements are public text),
# when and by what (origin: "web", "compilation: FILE.docx", …) each change was made, what it
# changed, and the reason given for a retirement. Who made it (the account's name) only for the
# Secretariat: the names of the Secretariat's staff are not published.


def is_secretariat(viewer: User | None) -> bool:
    """Whether the signed-in person may edit statements (``rcm.users.check_secretariat``)."""
    if viewer is None:
        return False
    try:
        check_secretariat(viewer, "edit statements")
    except Forbidden:
        return False
    return True


def word_diff(old: str, new: str) -> list[dict[str, str]]:
    """A wording's change word by word: ``{"op": "equal"|"delete"|"insert", "text"}`` runs."""
    a, b = old.split(), new.split()
    out: list[dict[str, str]] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append({"op": "equal", "text": " ".join(a[i1:i2])})
            continue
        if i2 > i1:
            out.append({"op": "delete", "text": " ".join(a[i1:i2])})
        if j2 > j1:
            out.append({"op": "insert", "text": " ".join(b[j1:j2])})
    return out


def _unwrapped(value: Any) -> Any:
    """An audit event's before/after as the edit made it (``{"value": x}`` is x; no origin)."""
    if isinstance(value, dict):
        if set(value) <= {"value", "origin"} and "value" in value:
            return value["value"]
        return {k: v for k, v in value.items() if k != "origin"}
    return value


def history_event(e: AuditEvent, actors: bool) -> dict[str, Any]:
    """An audited change to a statement as the history shows it; an event of an unknown kind
    only says when and what kind."""
    kind = ACTION_KINDS.get(e.action) or TRANSLATION_KINDS.get(e.action)
    data: dict[str, Any] = {
        "id": e.id,
        "at": e.at.isoformat(timespec="seconds"),
        "action": e.action,
        "kind": kind,
        "origin": (e.after or {}).get("origin") if isinstance(e.after, dict) else None,
        "actor": e.actor if actors else None,
        "before": _unwrapped(e.before) if kind else None,
        "after": _unwrapped(e.after) if kind else None,
    }
    if kind == "reworded":
        data["diff"] = word_diff(data["before"]["text"], data["after"]["text"])
    return data


def history_page(store: Store, statement_id: str, viewer: User | None) -> dict[str, Any]:
    """A statement's wordings (each with what changed from the one before) and every audited
    change to it, oldest first. The accounts' names only for the Secretariat."""
    statement, _ = store.statement(statement_id)
    h = history(store, statement.id)
    actors = is_secretariat(viewer)
    versions = []
    for i, v in enumerate(h.versions):
        item = v.as_dict()
        item["actor"] = v.actor if actors else None
        item["diff"] = word_diff(h.versions[i - 1].text, v.text) if i else None
        versions.append(item)
    meeting = store.meeting(statement.meeting)
    return {
        "statement_id": h.statement_id,
        "meeting_code": meeting.code,
        "meeting_label": meeting.label,
        "year": meeting.year,
        "version": h.version,
        "lang": statement.lang,  # the language of every wording below
        "retired_at": h.retired_at.isoformat(timespec="seconds") if h.retired_at else None,
        "versions": versions,
        "events": [history_event(e, actors) for e in h.events],
        "actors_shown": actors,
    }


def edit_choices(store: Store) -> dict[str, Any]:
    """What an editing form offers: the categories with their definitions, the sub-themes and the
    GCM objectives."""
    return {
        "categories": [
            {"name": c.category.value, "label": c.label, "definition": c.definition}
            for c in store.categories()
        ],
        "themes": [
            {
                "theme": th.number,
                "title": th.title,
                "subthemes": [{"order": s.order, "title": s.title} for s in th.subthemes],
            }
            for th in store.themes()
        ],
        "objectives": gcm.objective_titles(store),
    }


def edit_state(store: Store, statement_id: str) -> dict[str, Any]:
    """The statement as an editing form holds it, and what the form is built from: its wording
    ``version`` and the last audited change it had (``seen``)."""
    statement, placements = store.statement(statement_id)
    meeting = store.meeting(statement.meeting)
    return {
        "id": statement.id,
        "meeting_label": meeting.label,
        "year": meeting.year,
        "lang": statement.lang,
        "is_list": bool(statement.items),
        "version": statement.version,
        "seen": last_event(store, statement.id),
        "retired_at": statement.retired_at.isoformat(timespec="seconds")
        if statement.retired_at
        else None,
        "values": {
            "text": statement.text,
            "heading": statement.heading or "",
            "items": "\n".join(statement.items),
            "category": statement.category.value if statement.category else "",
            "places": sorted(f"{p.theme}.{p.subtheme}" for p in placements),
            "objectives": [x.objective for x in gcm.objective_links(store, statement.id)],
        },
        "retired_places": _retired_places(store, statement) if statement.retired_at else [],
    }


def _retired_places(store: Store, statement: Statement) -> list[str]:
    """Where a retired statement was filed when it was retired (where it goes back by default)."""
    retirements = [e for e in history(store, statement.id).events if e.action == "statement.retire"]
    before = retirements[-1].before if retirements else None
    places = before.get("placements", []) if isinstance(before, dict) else []
    return sorted(f"{p['theme']}.{p['subtheme']}" for p in places)


# Translations on one page of the review queue (a Spanish edition queues one per statement).
TRANSLATIONS_PER_PAGE = 20


def translation_queue(
    store: Store, state: str, page: int = 1, per_page: int = TRANSLATIONS_PER_PAGE
) -> dict[str, Any]:
    """One page of the translations in ``state`` (oldest first), each beside the wording it
    translates: the statement's, or the declaration proposal's while that waits; with the
    number of translations in that state and of pages."""
    everything = translate.translations(store, state=state)
    pages = max(1, -(-len(everything) // per_page))
    if not 1 <= page <= pages:
        raise NotFound("page %(page)s: there are %(pages)s", page=page, pages=pages)
    out = []
    for x in everything[(page - 1) * per_page : page * per_page]:
        if x.statement_id is not None:
            statement = store.statement(x.statement_id)[0]
            original, original_lang = statement.text, statement.lang
        else:
            p = proposal(store, x.proposal_id or 0)
            original, original_lang = p.text, p.lang
        out.append({**x.as_dict(), "original": original, "original_lang": original_lang})
    return {"items": out, "total": len(everything), "page": page, "pages": pages}
