"""Web pages of the consultation: sign-in, rounds, a country's answers (form, questionnaire
download and upload), the dashboard and the regional position. Every form carries the session's
CSRF token; who may see and do what is decided in the core (``rcm.consult``, ``rcm.users``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from rcm import consult, drafts, mail, users
from rcm.errors import NotFound, RcmError
from rcm.export import registry
from rcm.export.pdf import pdf_available
from rcm.i18n import words
from rcm.store import Store
from rcm.web import charts, i18n
from rcm.web.bodies import TooLarge
from rcm.web.deps import auth, render, store
from rcm.web.params import PathInt

MAX_UPLOAD = consult.MAX_XLSX_BYTES
# The questionnaire and the form's few other fields (CSRF token, country) with their multipart
# headers.
MAX_UPLOAD_BODY = MAX_UPLOAD + 64 * 1024


def questionnaire_too_large() -> RcmError:
    return TooLarge(
        i18n.gettext("The file is too large: a questionnaire is at most %(size)s MB.")
        % {"size": MAX_UPLOAD // (1024 * 1024)}
    )


router = APIRouter(include_in_schema=False)


@router.get("/rounds")
def rounds_page(request: Request) -> Response:
    found = auth(request).viewer(request)
    user = found[0] if found else None
    rounds = consult.visible_rounds(store(request), user)
    return render(request, "rounds.html", rounds=rounds, user=user, csrf=found[1] if found else "")


@router.post("/rounds")
async def open_round(request: Request) -> Response:
    user, csrf = auth(request).secretariat(request)
    form = await auth(request).form_with_csrf(request, csrf)
    from rcm.search import make_filters

    db = store(request)
    filters = make_filters(
        db,
        themes=[str(v) for v in form.getlist("theme")][:6],
        categories=[str(v) for v in form.getlist("category") if v][:4],
    )
    rnd = consult.open_round(
        db,
        str(form.get("title", ""))[:300],
        filters=filters,
        purpose=str(form.get("purpose", ""))[:2000],
        deadline=str(form.get("deadline") or "") or None,
        silence_is_consent=bool(form.get("silence")),
        public=bool(form.get("public")),
        actor=user,
    )
    config = request.app.state.config.mail
    # The round is open: the invitations go out now (off the event loop), whatever they meet.
    report = await run_in_threadpool(mail.invite, db, rnd.id, actor=user, config=config)
    return RedirectResponse(f"/rounds/{rnd.id}?{mail_query(report, config)}", status_code=303)


@router.post("/rounds/{round_id}/remind")
async def remind(request: Request, round_id: PathInt) -> Response:
    user, csrf = auth(request).secretariat(request)
    await auth(request).form_with_csrf(request, csrf)
    config = request.app.state.config.mail
    report = await run_in_threadpool(
        mail.remind, store(request), round_id, actor=user, config=config
    )
    return RedirectResponse(f"/rounds/{round_id}?{mail_query(report, config)}", status_code=303)


def mail_query(report: mail.MailReport, config: object) -> str:
    """What the round's page says about the messages just written (``mail_notice``)."""
    counts = (report.sent, report.failed + report.left, report.not_sent + report.gave_up)
    return "mail={}&sent={}&failed={}&unsent={}&skipped={}{}".format(
        report.kind, *counts, len(report.skipped), "" if config else "&off=1"
    )


def mail_notice(request: Request) -> dict[str, Any] | None:
    """The confirmation shown after messages were sent from the web (``mail_query``)."""
    kind = request.query_params.get("mail")
    if kind not in (mail.INVITATION, mail.REMINDER):
        return None

    def count(name: str) -> int:
        raw = request.query_params.get(name, "0")
        return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 0

    notice = {k: count(k) for k in ("sent", "failed", "unsent", "skipped")}
    return {"kind": kind, "off": request.query_params.get("off") == "1", **notice}


@router.post("/rounds/{round_id}/state")
async def change_state(request: Request, round_id: PathInt) -> Response:
    user, csrf = auth(request).secretariat(request)
    form = await auth(request).form_with_csrf(request, csrf)
    if form.get("state") == "closed":
        consult.close_round(store(request), round_id, user)
    elif form.get("state") == "open":
        consult.reopen_round(store(request), round_id, user)
    else:
        raise RcmError("state must be open or closed")
    return RedirectResponse(f"/rounds/{round_id}", status_code=303)


def shown_statements(db: Store, ids: list[str], lang: str) -> dict[str, dict[str, Any]]:
    """Each statement as the reader sees it: its wording in the page's language where it has one
    (else its own, with that language to mark it), with its heading and items where it is a list
    shown in its own wording (the ``statement_text`` macro's shape)."""
    w = words(lang)
    shown: dict[str, dict[str, Any]] = {}
    for s, _ in db.statements_by_ids(ids):
        text, text_lang = w.statement_text(s)
        own = text == s.text
        shown[s.id] = {
            "id": s.id,
            "text": text,
            "lang": text_lang,
            "heading": s.heading if own else None,
            "items": list(s.items) if own else [],
        }
    return shown


# A round asking about more statements than this shows them one theme at a time on its dashboard
# and its position page, so that each page stays small (issue 18: under 50 KB) and a Secretariat
# officer reads a theme the way the compilation is organised; the Word and PDF downloads of the
# position hold every statement.
ONE_THEME_AT_A_TIME = 60
NO_THEME = 0  # a statement filed under no theme (added from a declaration, not placed yet)


def listed_under(themes: list[int], round_themes: list[int]) -> list[int]:
    """The themes a statement is listed under in a one-theme view: the round's themes it is filed
    under, else every theme it is filed under, else none (``NO_THEME``)."""
    return [t for t in themes if t in round_themes] or list(themes) or [NO_THEME]


def theme_view(
    request: Request, db: Store, counts: dict[int, dict[str, int]], statements: int
) -> dict[str, Any] | None:
    """The one-theme view of a round's page (None: the page shows every statement): the themes
    to choose from, each with how many of its statements are in each status, and the theme
    chosen by ``?theme=N`` (the first by default; a theme the round has nothing under is a
    404)."""
    if statements <= ONE_THEME_AT_A_TIME or len(counts) < 2:
        return None
    titles = {th.number: th.title for th in db.themes()}
    asked = request.query_params.get("theme")
    chosen = min(counts)
    if asked is not None:
        chosen = int(asked) if asked.isdigit() else -1
        if chosen not in counts:
            raise NotFound("this round has no statement under theme %(theme)s", theme=asked[:20])
    order = [s.value for s in consult.Status]
    return {
        "chosen": chosen,
        "themes": [
            {
                "theme": t,
                "title": titles.get(t, ""),
                "statements": sum(c.values()),
                "counts": {k: c[k] for k in order if c.get(k)},
            }
            for t, c in sorted(counts.items())
        ],
    }


# A country's progress through a round, from its answers.
NOT_STARTED, IN_PROGRESS, FINISHED = "not started", "in progress", "finished"


def dashboard(db: Store, status: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's grid: one row per Member Country, one column per theme the round asks about
    (``round_themes``), each cell the statements of that theme the country has answered, shaded
    by the share answered (``charts.heat_level``); the totals of each row (the country's
    progress) and each column."""
    statements = status["statements"]
    themes = status["round_themes"]
    titles = {th.number: th.title for th in db.themes()}
    in_theme = {t: sum(1 for s in statements if t in s["themes"]) for t in themes}
    rows = []
    for country, progress in status["countries"].items():
        cells = []
        for t in themes:
            n = sum(1 for s in statements if t in s["themes"] and s["answers"][country])
            cells.append({"theme": t, "n": n, "level": charts.heat_level(n, in_theme[t])})
        answered, total = progress["answered"], progress["total"]
        state = FINISHED if answered >= total else IN_PROGRESS if answered else NOT_STARTED
        rows.append(
            {
                "country": country,
                "cells": cells,
                "answered": answered,
                "total": total,
                "state": state,
            }
        )
    columns = [
        {
            "theme": t,
            "title": titles.get(t, ""),
            "statements": in_theme[t],
            "answers": sum(r["cells"][j]["n"] for r in rows),
            "possible": in_theme[t] * len(rows),
        }
        for j, t in enumerate(themes)
    ]
    return {
        "columns": columns,
        "rows": rows,
        "answers": sum(r["answered"] for r in rows),
        "possible": len(statements) * len(rows),
        "finished": sum(1 for r in rows if r["state"] == FINISHED),
        # A statement filed under two of the round's themes counts in both columns.
        "overlap": any(sum(1 for t in themes if t in s["themes"]) > 1 for s in statements),
        "levels": list(range(len(charts.HEAT_LEVELS))),
    }


@router.get("/rounds/{round_id}")
def round_page(request: Request, round_id: PathInt) -> Response:
    found = auth(request).viewer(request)
    user = found[0] if found else None
    db = store(request)
    rnd = consult.get_round(db, round_id)
    if consult.answers_instead_of_results(user, rnd):
        return RedirectResponse(f"/rounds/{round_id}/answers", status_code=303)
    consult.check_can_see_results(user, rnd)
    status = consult.round_status(db, round_id)
    counts: dict[int, dict[str, int]] = {}
    for s in status["statements"]:
        for t in listed_under(s["themes"], status["round_themes"]):
            counts.setdefault(t, {}).setdefault(s["status"], 0)
            counts[t][s["status"]] += 1
    view = theme_view(request, db, counts, len(status["statements"]))
    shown = [
        s
        for s in status["statements"]
        if view is None or view["chosen"] in listed_under(s["themes"], status["round_themes"])
    ]
    return render(
        request,
        "round.html",
        data=status,
        grid=dashboard(db, status),
        view=view,
        listed=shown,
        texts=shown_statements(db, [s["id"] for s in shown], i18n.current.get()),
        user=user,
        csrf=found[1] if found else "",
        comments=consult.comments(db, round_id),
        mail_notice=mail_notice(request),
    )


@router.post("/rounds/{round_id}/comments")
async def comment(request: Request, round_id: PathInt) -> Response:
    user, csrf = auth(request).signed_in(request)
    form = await auth(request).form_with_csrf(request, csrf)
    consult.add_comment(
        store(request),
        user,
        round_id,
        str(form.get("statement", ""))[:40],
        str(form.get("text", ""))[: consult.MAX_COMMENT + 1],
    )
    return RedirectResponse(f"/rounds/{round_id}#comments", status_code=303)


@router.get("/rounds/{round_id}/position")
def position_page(request: Request, round_id: PathInt) -> Response:
    found = auth(request).viewer(request)
    user = found[0] if found else None
    db = store(request)
    consult.check_can_see_results(user, consult.get_round(db, round_id))
    data = consult.regional_position(db, round_id)
    counts: dict[int, dict[str, int]] = {}
    for section in data["themes"]:
        c = counts.setdefault(section["theme"], {})
        c["reaffirmed"] = sum(len(group) for group in section["reaffirmed"].values())
        c["to be updated"] = len(section["to_be_updated"])
    for key in ("contested", "pending"):
        for e in data[key]:
            for t in listed_under(e["themes"], data["round_themes"]):
                c = counts.setdefault(t, {})
                c[key] = c.get(key, 0) + 1
    view = theme_view(request, db, counts, sum(data["totals"].values()))
    if view is not None:
        chosen = view["chosen"]
        data = {
            **data,
            "themes": [s for s in data["themes"] if s["theme"] == chosen],
            "contested": [
                e
                for e in data["contested"]
                if chosen in listed_under(e["themes"], data["round_themes"])
            ],
            "pending": [
                e
                for e in data["pending"]
                if chosen in listed_under(e["themes"], data["round_themes"])
            ],
        }
    entries = [
        e for section in data["themes"] for group in section["reaffirmed"].values() for e in group
    ]
    entries += [e for section in data["themes"] for e in section["to_be_updated"]]
    entries += data["contested"] + data["pending"]
    return render(
        request,
        "position.html",
        data=data,
        view=view,
        texts=shown_statements(db, sorted({e["id"] for e in entries}), i18n.current.get()),
        pdf=pdf_available(),
        countries=len(consult.member_countries()),
        user=user,
        csrf=found[1] if found else "",
    )


class OfficeMissing(RcmError):
    """No PDF can be made here: LibreOffice is not installed on the server."""

    status = 503


@router.get("/rounds/{round_id}/position.docx")
async def position_docx(request: Request, round_id: PathInt) -> Response:
    return await position_download(request, round_id, "docx")


@router.get("/rounds/{round_id}/position.pdf")
async def position_pdf(request: Request, round_id: PathInt) -> Response:
    return await position_download(request, round_id, "pdf")


async def position_download(request: Request, round_id: int, name: str) -> Response:
    """The regional position as the Secretariat circulates it (``rcm round report``): a Word
    document, or its PDF by LibreOffice, in the page's language."""
    found = auth(request).viewer(request)
    db = store(request)
    consult.check_can_see_results(found[0] if found else None, consult.get_round(db, round_id))
    if name == "pdf" and not pdf_available():
        raise OfficeMissing(
            i18n.gettext(
                "The PDF cannot be made on this server: LibreOffice is not installed. "
                "Download the Word document instead."
            )
        )
    fmt = registry.get_format(name, "position")
    lang = i18n.current.get()
    # Off the event loop: the Word document takes a moment, its PDF a few seconds.
    data = await run_in_threadpool(fmt.write, db, round_id, lang=lang)
    filename = f"rcm-round-{round_id}-position-{lang}.{fmt.extension}"
    return Response(
        data,
        media_type=fmt.media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def typed_row(fields: dict[str, str] | None, sid: str) -> dict[str, str] | None:
    """What the person typed in a row of a form that could not be saved, to show it again."""
    if fields is None or f"v:{sid}" not in fields:
        return None
    return {
        k: fields.get(f"{f}:{sid}", "")
        for k, f in (("value", "v"), ("wording", "w"), ("note", "c"), ("confirm", "confirm"))
    }


def field_id(problem: drafts.FieldProblem) -> str:
    """The id of the form field a problem is about (``v-ID``, ``w-ID``, ``c-ID``)."""
    return f"{problem.field}-{problem.statement_id}"


def progress_text(answered: int, total: int) -> str:
    return i18n.gettext("%(answered)s of %(total)s answered") % {
        "answered": answered,
        "total": total,
    }


def deadline_text(rnd: consult.Round) -> str | None:
    """How long is left to answer, in the reader's language (None: the round has no deadline)."""
    days = drafts.days_left(rnd.deadline)
    if days is None:
        return None
    if days > 0:
        return i18n.ngettext(
            "%(num)d day left: the deadline is %(date)s.",
            "%(num)d days left: the deadline is %(date)s.",
            days,
        ) % {"num": days, "date": rnd.deadline}
    if days == 0:
        return i18n.gettext("Today, %(date)s, is the deadline.") % {"date": rnd.deadline}
    return i18n.ngettext(
        "The deadline, %(date)s, passed %(num)d day ago.",
        "The deadline, %(date)s, passed %(num)d days ago.",
        -days,
    ) % {"num": -days, "date": rnd.deadline}


def shown_answer(
    typed: dict[str, str] | None, draft: Any, opinion: consult.Opinion | None
) -> dict[str, str]:
    """What a row of the answers form holds: what was typed (a form that could not be saved),
    else the country's draft, else its submitted answer, else nothing."""
    if typed is not None:
        return typed
    if draft is not None:
        return {
            "value": draft.value or "",
            "wording": draft.proposed_wording or "",
            "note": draft.note or "",
            "confirm": "1" if draft.confirmed else "",
        }
    if opinion is not None:
        note = opinion.reason or opinion.comment or ""
        return {
            "value": opinion.value.value,
            "wording": opinion.proposed_wording or "",
            "note": note,
        }
    return {"value": "", "wording": "", "note": ""}


def answer_groups(
    db: Store,
    rows: dict[str, dict[str, Any]],
    placements: dict[str, Any],
    only_unanswered: bool,
) -> list[dict[str, Any]]:
    """The answers form's rows grouped by theme and sub-theme (``drafts.sections``), each group
    with its titles in the reader's language and its progress."""
    themes = {th.number: th for th in db.themes()}
    groups = []
    for (theme, sub), members in drafts.sections(placements):
        th = themes.get(theme)
        subtheme = next((x for x in th.subthemes if x.order == sub), None) if th else None
        group_rows = [rows[sid] for sid in members]
        groups.append(
            {
                "key": f"ts{theme}-{sub}",
                "theme": theme,
                "theme_title": i18n.label("theme", theme, th.title) if th else "",
                "subtheme_title": (
                    i18n.label("subtheme", f"{theme}.{sub}", subtheme.title) if subtheme else ""
                ),
                "rows": [r for r in group_rows if not (only_unanswered and r["answered"])],
                "answered": sum(1 for r in group_rows if r["answered"]),
                "total": len(group_rows),
            }
        )
    return groups


def answers_context(
    db: Store,
    rnd: consult.Round,
    country: str,
    typed: dict[str, str] | None = None,
    reworded: list[dict[str, Any]] | None = None,
    problems: list[drafts.FieldProblem] | None = None,
    only_unanswered: bool = False,
) -> dict[str, Any]:
    """The answers page: the round's statements grouped by theme and sub-theme, each row with the
    wording it shows (``sv:ID`` carries its version) and what it holds: ``typed`` (a form that
    could not be saved), else the country's draft, else its submitted answer; ``problems`` beside
    their fields and in the summary; and ``reworded``: the statements whose wording changed since
    an answer or since the form was shown."""
    status = consult.round_status(db, rnd.id)
    mine = {o.statement_id: o for o in consult.opinions(db, rnd.id) if o.country == country}
    kept = drafts.drafts(db, rnd.id, country)
    ids = [s["id"] for s in status["statements"]]
    found = {s.id: (s, ps) for s, ps in db.statements_by_ids(ids)}
    w = words(i18n.current.get())
    beside: dict[str, dict[str, str]] = {}
    for p in problems or []:
        beside.setdefault(p.statement_id, {})[p.field] = i18n.translated(p.template, p.values)
    rows: dict[str, dict[str, Any]] = {}
    for s in status["statements"]:
        sid = s["id"]
        o, d, t = mine.get(sid), kept.get(sid), typed_row(typed, sid)
        shown = shown_answer(t, d, o)
        statement = found.get(sid)
        text, lang = w.statement_text(statement[0]) if statement else ("", "en")
        rows[sid] = {
            "id": sid,
            "text": text,
            "lang": lang,
            "opinion": o,
            "draft": d,
            "version": s["version"],
            "changed_on": s["wording_changed_on"],
            "answered_version": s["answered_versions"].get(country),
            "typed": t,
            "shown": shown,
            "answered": bool(shown["value"]),
            # The form says which answer it shows beside the row (``ver:ID``): the one submitted
            # now. A draft remembers the one it began from; submitting it after another answer
            # was submitted meanwhile is a conflict until the row is saved again (the row says
            # what was submitted, ``overtaken``).
            "opinion_version": o.version if o else 0,
            "overtaken": bool(d and d.opinion_version != (o.version if o else 0)),
            "statement_version": (d.statement_version if d else None) or s["version"],
            "problems": beside.get(sid, {}),
        }
    groups = answer_groups(
        db, rows, {sid: found[sid][1] if sid in found else [] for sid in ids}, only_unanswered
    )
    answered = sum(1 for r in rows.values() if r["answered"])
    summary = [
        {"href": f"#{field_id(p)}", "text": beside[p.statement_id][p.field]} for p in problems or []
    ]
    return {
        "round": rnd,
        "country": country,
        "groups": groups,
        "rows": list(rows.values()),
        "answered": answered,
        "total": len(rows),
        "progress": progress_text(answered, len(rows)),
        "unsent": len(kept),
        "deadline_text": deadline_text(rnd),
        "only_unanswered": only_unanswered,
        "summary": summary,
        "reworded": reworded or [],
        "choices": [v.value for v in consult.OpinionValue],
        "max_wording": consult.MAX_WORDING,
        "max_comment": consult.MAX_COMMENT,
    }


def country_query(user: users.User, country: str) -> str:
    """The query naming the country, for the Secretariat's links (a focal point needs none)."""
    return "" if user.country else f"country={country}"


def answers_url(round_id: int, user: users.User, country: str, **params: str) -> str:
    pairs = [p for p in (country_query(user, country),) if p] + [
        f"{k}={quote(v)}" for k, v in params.items()
    ]
    return f"/rounds/{round_id}/answers" + (f"?{'&'.join(pairs)}" if pairs else "")


@router.get("/rounds/{round_id}/answers")
def answers_page(request: Request, round_id: PathInt) -> Response:
    user, csrf = auth(request).signed_in(request)
    rnd = consult.get_round(store(request), round_id)
    requested = request.query_params.get("country") or user.country
    country = consult.answering_country(user, requested)
    notice = request.query_params
    return render(
        request,
        "answers.html",
        user=user,
        csrf=csrf,
        errors=[],
        saved=None,
        drafted=count_param(notice.get("drafted")),
        submitted=count_param(notice.get("submitted")),
        country_query=country_query(user, country),
        **answers_context(
            store(request), rnd, country, only_unanswered=notice.get("show") == "unanswered"
        ),
    )


def count_param(raw: str | None) -> int | None:
    """A count passed to a page after a redirect (``?drafted=3``), or None."""
    if raw is None or not (raw.isascii() and raw.isdigit() and len(raw) < 7):
        return None
    return int(raw)


async def answering(
    request: Request, round_id: int
) -> tuple[users.User, str, Any, consult.Round, str]:
    """Who answers, their CSRF token, the form sent, the round and the country it answers for."""
    user, csrf = auth(request).signed_in(request)
    form = await auth(request).form_with_csrf(request, csrf)
    rnd = consult.get_round(store(request), round_id)
    country = consult.answering_country(user, str(form.get("country") or user.country or ""))
    return user, csrf, form, rnd, country


@router.post("/rounds/{round_id}/answers/draft")
async def save_draft(request: Request, round_id: PathInt) -> Response:
    """The form without JavaScript: every row sent kept as a draft (a save button per theme
    group; the one pressed says where to come back to)."""
    user, csrf, form, rnd, country = await answering(request, round_id)
    db = store(request)
    fields = {key: str(value) for key, value in form.multi_items()}
    problems = drafts.save(db, user, rnd, country, fields)
    group = str(form.get("group") or "")[:20]
    anchor = f"#group-{group}" if group.replace("-", "").isalnum() else ""
    if form.get("next") == "check" and not problems:
        query = country_query(user, country)
        return RedirectResponse(
            f"/rounds/{round_id}/answers/check" + (f"?{query}" if query else ""), status_code=303
        )
    if not problems:
        sent = len([k for k in fields if k.startswith("v:")])
        return RedirectResponse(
            answers_url(round_id, user, country, drafted=str(sent)) + anchor, status_code=303
        )
    # Kept, problems and all: the page shows them at the top and beside their fields.
    return render(
        request,
        "answers.html",
        user=user,
        csrf=csrf,
        errors=[],
        saved=None,
        drafted=None,
        submitted=None,
        country_query=country_query(user, country),
        **answers_context(db, rnd, country, problems=problems),
    )


@router.post("/rounds/{round_id}/answers/row.json")
async def save_row(request: Request, round_id: PathInt) -> Response:
    """The form with JavaScript: one row kept as a draft as soon as it is given. Answers what the
    row's fields should say and the progress."""
    user, _, form, rnd, country = await answering(request, round_id)
    db = store(request)
    fields = {key: str(value) for key, value in form.multi_items()}
    if len([k for k in fields if k.startswith("v:")]) != 1:
        raise RcmError(i18n.gettext("Send one row at a time."))
    problems = drafts.save(db, user, rnd, country, fields)
    context = answers_context(db, rnd, country)
    (sid,) = [k[2:].strip().upper() for k in fields if k.startswith("v:")]
    group = next(g for g in context["groups"] if any(r["id"] == sid for r in g["rows"]))
    return JSONResponse(
        {
            "saved": True,
            "statement": sid,
            "problems": [
                {"field": field_id(p), "message": i18n.translated(p.template, p.values)}
                for p in problems
            ],
            "progress": context["progress"],
            "group": {
                "key": group["key"],
                "progress": progress_text(group["answered"], group["total"]),
            },
            "unsent": context["unsent"],
            "unsent_text": i18n.ngettext(
                "%(num)d answer saved as a draft, not yet submitted.",
                "%(num)d answers saved as drafts, not yet submitted.",
                context["unsent"],
            )
            % {"num": context["unsent"]}
            if context["unsent"]
            else "",
        },
        headers={"Cache-Control": "no-store"},
    )


@router.get("/rounds/{round_id}/answers/check")
def check_page(request: Request, round_id: PathInt) -> Response:
    """Check your answers: every answer the country would send, by theme, before it is sent."""
    user, csrf = auth(request).signed_in(request)
    db = store(request)
    rnd = consult.get_round(db, round_id)
    country = consult.answering_country(user, request.query_params.get("country") or user.country)
    return check_answers(request, user, csrf, rnd, country)


def check_answers(
    request: Request,
    user: users.User,
    csrf: str,
    rnd: consult.Round,
    country: str,
    status: int = 200,
    errors: list[str] | None = None,
) -> Response:
    db = store(request)
    kept = drafts.drafts(db, rnd.id, country)
    problems = [
        p
        for d in kept.values()
        for p in drafts.row_problems(d.statement_id, d.value, d.proposed_wording, d.note)
    ]
    context = answers_context(db, rnd, country, problems=problems)
    # Its links go to the fields on the form, where each problem is put right.
    form_url = answers_url(rnd.id, user, country)
    for item in context["summary"]:
        item["href"] = form_url + item["href"]
    return render(
        request,
        "check_answers.html",
        status=status,
        user=user,
        csrf=csrf,
        errors=errors or [],
        form_url=form_url,
        **context,
    )


@router.post("/rounds/{round_id}/answers/submit")
async def submit_answers(request: Request, round_id: PathInt) -> Response:
    """Submit the country's drafts as its answers (after "check your answers")."""
    user, csrf, _, rnd, country = await answering(request, round_id)
    db = store(request)
    try:
        written = drafts.submit(db, user, rnd, country)
    except drafts.FormProblems:
        return check_answers(request, user, csrf, rnd, country, 400)
    except RcmError as exc:
        if exc.status not in (400, 409):
            raise
        message = i18n.translated(exc.template, exc.values)
        return check_answers(request, user, csrf, rnd, country, exc.status, [message])
    return RedirectResponse(
        answers_url(round_id, user, country, submitted=str(len(written))), status_code=303
    )


@router.post("/rounds/{round_id}/answers")
async def save_answers(request: Request, round_id: PathInt) -> Response:
    """The whole form sent as the country's answers at once (the form before drafts, and scripts):
    all or none, with each problem beside its field; the rows saved leave no draft behind."""
    user, csrf = auth(request).signed_in(request)
    form = await auth(request).form_with_csrf(request, csrf)
    db = store(request)
    rnd = consult.get_round(db, round_id)
    country = consult.answering_country(user, str(form.get("country") or user.country or ""))
    fields = {key: str(value) for key, value in form.multi_items()}
    status, errors, saved, typed = 200, [], None, None
    problems: list[drafts.FieldProblem] = []
    try:
        problems = drafts.form_problems(fields)
        if problems:
            users.check_can_answer(user, country, rnd.state)
            raise drafts.FormProblems(problems)
        written = consult.save_form(db, user, rnd, country, fields)
        drafts.discard(db, rnd.id, country, [o.statement_id for o in written])
        saved, reworded = len(written), consult.reworded_since(db, written)
    except RcmError as exc:
        if exc.status not in (400, 409):
            raise
        # Nothing was written: what was typed is shown again, and any wording that changed since
        # the form was shown, before it is sent again.
        status, typed = exc.status, fields
        if not isinstance(exc, drafts.FormProblems):
            errors = [i18n.translated(exc.template, exc.values)]
        reworded = consult.reworded_in_form(db, fields)
    return render(
        request,
        "answers.html",
        status=status,
        user=user,
        csrf=csrf,
        errors=errors,
        saved=saved,
        drafted=None,
        submitted=None,
        country_query=country_query(user, country),
        **answers_context(db, rnd, country, typed, reworded, problems),
    )


@router.get("/rounds/{round_id}/questionnaire.xlsx")
def questionnaire(request: Request, round_id: PathInt) -> Response:
    user, _ = auth(request).signed_in(request)
    requested = request.query_params.get("country") or user.country
    country = consult.answering_country(user, requested)
    from rcm.export.questionnaire import write_questionnaire

    # In the page's language (which a focal point's chosen language makes theirs: /account).
    data = write_questionnaire(store(request), round_id, country, lang=i18n.current.get())
    name = quote(f"rcm-round-{round_id}-{country}.xlsx")
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )


@router.post("/rounds/{round_id}/questionnaire")
async def upload(request: Request, round_id: PathInt) -> Response:
    user, csrf = auth(request).signed_in(request)
    # The body is counted as it arrives: a client sending more than a questionnaire may be is cut
    # off there, not after the whole body is spooled to disk.
    form = await auth(request).form_with_csrf(
        request, csrf, max_bytes=MAX_UPLOAD_BODY, refusal=questionnaire_too_large
    )
    db = store(request)
    rnd = consult.get_round(db, round_id)
    country = consult.answering_country(user, str(form.get("country") or user.country or ""))
    users.check_can_answer(user, country, rnd.state)
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise RcmError(i18n.gettext("Choose the questionnaire file to send."))
    data = await upload.read(MAX_UPLOAD + 1)
    before = {o.statement_id: o.version for o in consult.opinions(db, round_id)
              if o.country == country}  # fmt: skip
    errors: list[str] = []
    saved = None
    try:
        # Off the event loop: reading and checking a questionnaire takes up to a second or two, and
        # the worker's other requests must not wait for it.
        result = await run_in_threadpool(
            consult.import_questionnaire,
            db,
            round_id,
            data,
            upload.filename or "upload.xlsx",
            user,
            expected_country=country,
        )
        saved = result.written
        # The questionnaire's answers are submitted: the drafts of the rows it wrote are done with.
        done = [
            o.statement_id
            for o in consult.opinions(db, round_id)
            if o.country == country and before.get(o.statement_id) != o.version
        ]
        drafts.discard(db, round_id, country, done)
        earlier = {sid for sid, _, _ in result.earlier_wording}
        reworded = consult.reworded_since(
            db,
            [
                o
                for o in consult.opinions(db, round_id)
                if o.country == country and o.statement_id in earlier
            ],
        )
    except RcmError as exc:
        errors = [str(p) for p in getattr(exc, "problems", [])] or [
            i18n.translated(exc.template, exc.values)
        ]
        reworded = []
    context = await run_in_threadpool(answers_context, db, rnd, country, None, reworded)
    return render(
        request,
        "answers.html",
        status=400 if errors else 200,
        user=user,
        csrf=csrf,
        errors=errors,
        saved=saved,
        drafted=None,
        submitted=None,
        country_query=country_query(user, country),
        **context,
    )
