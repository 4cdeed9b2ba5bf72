"""Web pages of the consultation: sign-in, rounds, a country's answers (form, questionnaire
download and upload), the dashboard and the regional position. Every form carries the session's
CSRF token; who may see and do what is decided in the core (``rcm.consult``, ``rcm.users``)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from rcm import consult, drafts, mail, users
from rcm.errors import DocumentError, NotFound, RcmError
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


def dashboard(db: Store, status: dict[str, Any], show_drafts: bool = False) -> dict[str, Any]:
    """The dashboard's grid: one row per Member Country, one column per theme the round asks about
    (``round_themes``), each cell the statements of that theme the country has answered, shaded
    by the share answered (``charts.heat_level``); the totals of each row (the country's
    progress) and each column; each country's submitted answers and the day of the latest
    (``drafts.submissions``), and with ``show_drafts`` (the Secretariat) how many drafts it has
    not submitted (``None`` otherwise)."""
    statements = status["statements"]
    sent = drafts.submissions(db, status["round"]["id"], status["countries"])
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
                "submitted": sent[country].submitted,
                "last_submitted": sent[country].last_submitted,
                "unsubmitted": sent[country].unsubmitted if show_drafts else None,
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
        "unsubmitted": sum(r["unsubmitted"] for r in rows) if show_drafts else None,
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
        grid=dashboard(
            db, status, show_drafts=user is not None and user.role == users.Role.SECRETARIAT
        ),
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


def unsent_text(unsent: int) -> str:
    if not unsent:
        return ""
    return i18n.ngettext(
        "%(num)d answer saved as a draft, not yet submitted.",
        "%(num)d answers saved as drafts, not yet submitted.",
        unsent,
    ) % {"num": unsent}


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


# The form's pages (the GOV.UK "task list" pattern): a round of at most ONE_PAGE statements is one
# page; a larger one opens on a task list of its sections (theme and sub-theme), each its own
# page, a section of more than ONE_PAGE statements in parts of at most ONE_PAGE. Twelve rows of
# the compilation (its longest statements included) come to about 25 KB of HTML: a page stays
# well under the 50 KB, a phone's screen shows it in a few scrolls, and a round of twelve
# gains nothing from a task list in front of it.
ONE_PAGE = 12
# A section's key in the form's addresses and fields: ``ts5-1`` (``ts0-0``: filed nowhere).
SECTION_KEY = re.compile(r"ts\d{1,2}-\d{1,3}")


def section_key(key: tuple[int, int]) -> str:
    return f"ts{key[0]}-{key[1]}"


def parts(ids: list[str]) -> list[list[str]]:
    """A section's rows in parts of at most ONE_PAGE, as even as they can be."""
    n = max(1, -(-len(ids) // ONE_PAGE))
    return [ids[i * len(ids) // n : (i + 1) * len(ids) // n] for i in range(n)]


def one_page(form: drafts.CountryForm) -> bool:
    return len(form.rows) <= ONE_PAGE


def form_pages(form: drafts.CountryForm) -> list[tuple[str, int, list[str]]]:
    """The form's pages in order: (section key, part from 1, its statement ids)."""
    return [
        (section_key(key), n, part)
        for key, ids in form.sections
        for n, part in enumerate(parts(ids), start=1)
    ]


def page_url(
    round_id: int, user: users.User, country: str, key: str, part: int = 1, **params: str
) -> str:
    """A section's page (``/rounds/ID/answers/ts5-1``, ``?part=2`` for its second part)."""
    pairs = [p for p in (country_query(user, country),) if p]
    pairs += [f"part={part}"] if part > 1 else []
    pairs += [f"{k}={quote(v)}" for k, v in params.items()]
    return f"/rounds/{round_id}/answers/{key}" + (f"?{'&'.join(pairs)}" if pairs else "")


def row_pages(
    form: drafts.CountryForm, round_id: int, user: users.User, country: str
) -> dict[str, str]:
    """Each statement's page: where its row is, for the links of "check your answers"."""
    if one_page(form):
        return dict.fromkeys(form.rows, answers_url(round_id, user, country))
    return {
        sid: page_url(round_id, user, country, key, n)
        for key, n, ids in form_pages(form)
        for sid in ids
    }


def section_titles(db: Store) -> Any:
    """A function giving a section's theme and sub-theme titles in the reader's language."""
    themes = {th.number: th for th in db.themes()}

    def titles(theme: int, sub: int) -> tuple[str, str]:
        th = themes.get(theme)
        subtheme = next((x for x in th.subthemes if x.order == sub), None) if th else None
        return (
            i18n.label("theme", theme, th.title) if th else "",
            i18n.label("subtheme", f"{theme}.{sub}", subtheme.title) if subtheme else "",
        )

    return titles


def answer_groups(
    db: Store,
    form: drafts.CountryForm,
    rows: dict[str, dict[str, Any]],
    only_unanswered: bool,
) -> list[dict[str, Any]]:
    """The rows shown (``rows``, built for the page) grouped by theme and sub-theme
    (``drafts.sections``), each group with its titles in the reader's language and the progress
    of the whole section (typed rows counted as shown)."""
    titles = section_titles(db)
    groups = []
    for (theme, sub), members in form.sections:
        shown = [rows[sid] for sid in members if sid in rows]
        if not shown:
            continue
        theme_title, subtheme_title = titles(theme, sub)
        answered = sum(
            1 for sid in members if (rows[sid]["answered"] if sid in rows else form.rows[sid].value)
        )
        groups.append(
            {
                "key": section_key((theme, sub)),
                "theme": theme,
                "theme_title": theme_title,
                "subtheme_title": subtheme_title,
                "rows": [r for r in shown if not (only_unanswered and r["answered"])],
                "answered": answered,
                "total": len(members),
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
    *,
    ids: Collection[str] | None = None,
    form: drafts.CountryForm | None = None,
) -> dict[str, Any]:
    """The rows of the answers form (all, or ``ids``), grouped by theme and sub-theme, each row
    with the full text of its statement (``sv:ID`` carries its version) and what it holds:
    ``typed`` (a form that could not be saved), else the country's draft, else its submitted
    answer; ``problems`` beside their fields and in the summary; and ``reworded``: the
    statements whose wording changed since an answer or since the form was shown. Only the
    texts of the rows shown are read; the progress is the whole form's."""
    form = form or drafts.country_form(db, rnd.id, country)
    wanted = [sid for sid in form.rows if ids is None or sid in ids]
    found = {s.id: s for s, _ in db.statements_by_ids(wanted)}
    w = words(i18n.current.get())
    beside: dict[str, dict[str, str]] = {}
    for p in problems or []:
        beside.setdefault(p.statement_id, {})[p.field] = i18n.translated(p.template, p.values)
    rows: dict[str, dict[str, Any]] = {}
    for sid in wanted:
        fr = form.rows[sid]
        o, d, t = fr.opinion, fr.draft, typed_row(typed, sid)
        shown = shown_answer(t, d, o)
        statement = found.get(sid)
        text, lang = w.statement_text(statement) if statement else ("", "en")
        rows[sid] = {
            "id": sid,
            "text": text,
            "lang": lang,
            "opinion": o,
            "draft": d,
            "version": fr.version,
            "changed_on": fr.changed_on,
            "answered_version": fr.answered_version,
            "typed": t,
            "shown": shown,
            "answered": bool(shown["value"]),
            # The form says which answer it shows beside the row (``ver:ID``): the one submitted
            # now. A draft remembers the one it began from; submitting it after another answer
            # was submitted meanwhile is a conflict until the row is saved again (the row says
            # what was submitted, ``overtaken``).
            "opinion_version": o.version if o else 0,
            "overtaken": bool(d and d.opinion_version != (o.version if o else 0)),
            "statement_version": (d.statement_version if d else None) or fr.version,
            "problems": beside.get(sid, {}),
        }
    groups = answer_groups(db, form, rows, only_unanswered)
    answered = sum(
        1 for sid, fr in form.rows.items() if (rows[sid]["answered"] if sid in rows else fr.value)
    )
    summary = [
        {"href": f"#{field_id(p)}", "text": beside[p.statement_id][p.field]} for p in problems or []
    ]
    return {
        "round": rnd,
        "country": country,
        "groups": groups,
        "rows": list(rows.values()),
        "answered": answered,
        "total": len(form.rows),
        "progress": progress_text(answered, len(form.rows)),
        "unsent": form.unsent,
        "deadline_text": deadline_text(rnd),
        "only_unanswered": only_unanswered,
        "summary": summary,
        "reworded": reworded or [],
        "choices": [v.value for v in consult.OpinionValue],
        "max_wording": consult.MAX_WORDING,
        "max_comment": consult.MAX_COMMENT,
    }


def task_list(
    db: Store,
    rnd: consult.Round,
    user: users.User,
    country: str,
    form: drafts.CountryForm,
    only_unanswered: bool = False,
) -> list[dict[str, Any]]:
    """The task list: the round's themes, each with its sections (sub-themes), each with its
    status (not started, in progress with its count, completed) and the address of its page."""
    titles = section_titles(db)
    themes: list[dict[str, Any]] = []
    for (theme, sub), ids in form.sections:
        answered = sum(1 for sid in ids if form.rows[sid].value)
        if only_unanswered and answered == len(ids):
            continue
        theme_title, subtheme_title = titles(theme, sub)
        if not themes or themes[-1]["theme"] != theme:
            themes.append({"theme": theme, "title": theme_title, "sections": []})
        key = section_key((theme, sub))
        themes[-1]["sections"].append(
            {
                "key": key,
                "title": subtheme_title,
                "href": page_url(rnd.id, user, country, key),
                "answered": answered,
                "total": len(ids),
                "drafts": sum(1 for sid in ids if form.rows[sid].draft is not None),
                "status": (
                    "completed"
                    if answered == len(ids)
                    else "in progress"
                    if answered
                    else "not started"
                ),
            }
        )
    return themes


def country_query(user: users.User, country: str) -> str:
    """The query naming the country, for the Secretariat's links (a focal point needs none)."""
    return "" if user.country else f"country={country}"


def answers_url(round_id: int, user: users.User, country: str, **params: str) -> str:
    pairs = [p for p in (country_query(user, country),) if p] + [
        f"{k}={quote(v)}" for k, v in params.items()
    ]
    return f"/rounds/{round_id}/answers" + (f"?{'&'.join(pairs)}" if pairs else "")


def check_url(round_id: int, user: users.User, country: str) -> str:
    query = country_query(user, country)
    return f"/rounds/{round_id}/answers/check" + (f"?{query}" if query else "")


def answers_front(
    request: Request,
    user: users.User,
    csrf: str,
    rnd: consult.Round,
    country: str,
    *,
    status: int = 200,
    errors: list[str] | None = None,
    saved: int | None = None,
    drafted: int | None = None,
    submitted: int | None = None,
    reworded: list[dict[str, Any]] | None = None,
    only_unanswered: bool = False,
    every_row: bool = False,
) -> Response:
    """The form's first page: the task list of its sections, or, for a round of at most
    ONE_PAGE statements (or asked for: ``every_row``, ``?show=all``), the whole form."""
    db = store(request)
    form = drafts.country_form(db, rnd.id, country)
    common: dict[str, Any] = {
        "status": status,
        "user": user,
        "csrf": csrf,
        "errors": errors or [],
        "saved": saved,
        "drafted": drafted,
        "submitted": submitted,
        "country_query": country_query(user, country),
    }
    if one_page(form) or every_row:
        context = answers_context(
            db, rnd, country, None, reworded, only_unanswered=only_unanswered, form=form
        )
        return render(request, "answers.html", mode="all", **common, **context)
    # The task list shows no row: the statements of ``reworded`` come with their new wording.
    return render(
        request,
        "answers.html",
        mode="tasks",
        round=rnd,
        country=country,
        tasks=task_list(db, rnd, user, country, form, only_unanswered),
        answered=form.answered,
        total=len(form.rows),
        progress=progress_text(form.answered, len(form.rows)),
        unsent=form.unsent,
        deadline_text=deadline_text(rnd),
        only_unanswered=only_unanswered,
        summary=[],
        reworded=reworded or [],
        check_url=check_url(rnd.id, user, country),
        **common,
    )


@router.get("/rounds/{round_id}/answers")
def answers_page(request: Request, round_id: PathInt) -> Response:
    user, csrf = auth(request).signed_in(request)
    rnd = consult.get_round(store(request), round_id)
    requested = request.query_params.get("country") or user.country
    country = consult.answering_country(user, requested)
    notice = request.query_params
    return answers_front(
        request,
        user,
        csrf,
        rnd,
        country,
        drafted=count_param(notice.get("drafted")),
        submitted=count_param(notice.get("submitted")),
        only_unanswered=notice.get("show") == "unanswered",
        every_row=notice.get("show") == "all",
    )


def count_param(raw: str | None) -> int | None:
    """A count passed to a page after a redirect (``?drafted=3``), or None."""
    if raw is None or not (raw.isascii() and raw.isdigit() and len(raw) < 7):
        return None
    return int(raw)


def section_page(
    request: Request,
    user: users.User,
    csrf: str,
    rnd: consult.Round,
    country: str,
    key: str,
    part: int,
    *,
    form: drafts.CountryForm | None = None,
    status: int = 200,
    typed: dict[str, str] | None = None,
    problems: list[drafts.FieldProblem] | None = None,
    drafted: int | None = None,
) -> Response:
    """One section of the form (one part of it, for a long one): a question page with its rows,
    its own Save, "save and go to the next section", and the way back to the task list."""
    db = store(request)
    form = form or drafts.country_form(db, rnd.id, country)
    pages = form_pages(form)
    at = next((i for i, (k, n, _) in enumerate(pages) if k == key and n == part), None)
    if at is None:
        raise NotFound(
            "The answers of round %(round)s have no page %(page)s.",
            round=rnd.id,
            page=key + (f" ({part})" if part > 1 else ""),
        )
    _, _, ids = pages[at]
    context = answers_context(db, rnd, country, typed, [], problems, ids=set(ids), form=form)
    (group,) = context["groups"]
    last = at + 1 == len(pages)
    return render(
        request,
        "answers.html",
        mode="section",
        status=status,
        user=user,
        csrf=csrf,
        errors=[],
        saved=None,
        drafted=drafted,
        submitted=None,
        country_query=country_query(user, country),
        group=group,
        part=part,
        parts=sum(1 for k, _, _ in pages if k == key),
        last=last,
        front_url=answers_url(rnd.id, user, country),
        check_url=check_url(rnd.id, user, country),
        **context,
    )


def part_param(raw: str | None) -> int:
    if raw is None or not (raw.isascii() and raw.isdigit() and len(raw) < 4):
        return 1
    return max(1, int(raw))


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
    """The form without JavaScript: the rows of the page sent kept as drafts. ``group`` and
    ``part`` say which page sent them (a section's, or a section of the one-page form), ``next``
    where to go: ``next`` the following page (after the last, "check your answers"), ``check``
    "check your answers", else back to the same page."""
    user, csrf, fields_sent, rnd, country = await answering(request, round_id)
    db = store(request)
    fields = {key: str(value) for key, value in fields_sent.multi_items()}
    problems = drafts.save(db, user, rnd, country, fields)
    group = str(fields_sent.get("group") or "")[:20]
    group = group if SECTION_KEY.fullmatch(group) else ""
    part = part_param(str(fields_sent.get("part") or "") or None)
    form = drafts.country_form(db, rnd.id, country)
    paged = not one_page(form)
    wanted = fields_sent.get("next")
    if not problems:
        sent = len([k for k in fields if k.startswith("v:")])
        if wanted == "check":
            return RedirectResponse(check_url(round_id, user, country), status_code=303)
        if wanted == "next" and paged and group:
            pages = form_pages(form)
            at = next((i for i, (k, n, _) in enumerate(pages) if (k, n) == (group, part)), None)
            if at is not None and at + 1 < len(pages):
                k, n, _ = pages[at + 1]
                return RedirectResponse(page_url(round_id, user, country, k, n), status_code=303)
            return RedirectResponse(check_url(round_id, user, country), status_code=303)
        if paged and group:
            target = page_url(round_id, user, country, group, part, drafted=str(sent))
        else:
            target = answers_url(round_id, user, country, drafted=str(sent))
            target += f"#group-{group}" if group else ""
        return RedirectResponse(target, status_code=303)
    # Kept, problems and all: the page shows them at the top and beside their fields.
    if paged and group:
        try:
            return section_page(
                request,
                user,
                csrf,
                rnd,
                country,
                group,
                part,
                form=form,
                typed=fields,
                problems=problems,
            )
        except NotFound:
            pass
    sent_ids = {k[2:].strip().upper() for k in fields if k.startswith("v:")}
    return render(
        request,
        "answers.html",
        mode="all",
        user=user,
        csrf=csrf,
        errors=[],
        saved=None,
        drafted=None,
        submitted=None,
        country_query=country_query(user, country),
        **answers_context(
            db,
            rnd,
            country,
            fields,
            None,
            problems,
            ids=None if not paged else sent_ids,
            form=form,
        ),
    )


@router.post("/rounds/{round_id}/answers/row.json")
async def save_row(request: Request, round_id: PathInt) -> Response:
    """The form with JavaScript: one row kept as a draft as soon as it is given. Answers what the
    row's fields should say and the progress: of the form, of the row's section, the drafts not
    yet submitted (read without the statements' texts: no page is built)."""
    user, _, form, rnd, country = await answering(request, round_id)
    db = store(request)
    fields = {key: str(value) for key, value in form.multi_items()}
    if len([k for k in fields if k.startswith("v:")]) != 1:
        raise RcmError(i18n.gettext("Send one row at a time."))
    problems = drafts.save(db, user, rnd, country, fields)
    (sid,) = [k[2:].strip().upper() for k in fields if k.startswith("v:")]
    state = drafts.country_form(db, rnd.id, country)
    key = state.section_of(sid) or (0, 0)
    members = dict(state.sections).get(key, [])
    in_section = sum(1 for m in members if state.rows[m].value)
    return JSONResponse(
        {
            "saved": True,
            "statement": sid,
            "problems": [
                {"field": field_id(p), "message": i18n.translated(p.template, p.values)}
                for p in problems
            ],
            "progress": progress_text(state.answered, len(state.rows)),
            "group": {
                "key": section_key(key),
                "progress": progress_text(in_section, len(members)),
            },
            "unsent": state.unsent,
            "unsent_text": unsent_text(state.unsent),
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
    key = request.query_params.get("section")
    if key is not None and not SECTION_KEY.fullmatch(key):
        raise NotFound(
            "The answers of round %(round)s have no page %(page)s.", round=round_id, page=key[:20]
        )
    page = (key, part_param(request.query_params.get("part"))) if key else None
    return check_answers(request, user, csrf, rnd, country, page=page)


@router.get("/rounds/{round_id}/answers/{key}")
def answers_section(request: Request, round_id: PathInt, key: str) -> Response:
    """One section of the form (``ts5-1``; ``?part=2``: its second part)."""
    user, csrf = auth(request).signed_in(request)
    if not SECTION_KEY.fullmatch(key):
        raise NotFound(
            "The answers of round %(round)s have no page %(page)s.", round=round_id, page=key[:20]
        )
    rnd = consult.get_round(store(request), round_id)
    requested = request.query_params.get("country") or user.country
    country = consult.answering_country(user, requested)
    return section_page(
        request,
        user,
        csrf,
        rnd,
        country,
        key,
        part_param(request.query_params.get("part")),
        drafted=count_param(request.query_params.get("drafted")),
    )


def check_overview(
    db: Store,
    form: drafts.CountryForm,
    pages: list[tuple[str, int, list[str]]],
    problems: list[drafts.FieldProblem],
    round_id: int,
    user: users.User,
    country: str,
) -> list[dict[str, Any]]:
    """Check your answers on a long form: each of its pages with its counts, drafts and problems,
    a link to change it and one to check its answers in full."""
    overview: list[dict[str, Any]] = []
    titles = section_titles(db)
    wrong = Counter(p.statement_id for p in problems)
    for key, n, ids in pages:
        theme, sub = (int(x) for x in key[2:].split("-"))
        values = Counter(v for sid in ids if (v := form.rows[sid].value))
        overview.append(
            {
                "key": key,
                "part": n,
                "parts": sum(1 for k, _, _ in pages if k == key),
                "theme": theme,
                "titles": titles(theme, sub),
                "answered": sum(values.values()),
                "total": len(ids),
                "counts": [
                    (v.value, values[v.value]) for v in consult.OpinionValue if values[v.value]
                ],
                "drafts": sum(1 for sid in ids if form.rows[sid].draft is not None),
                "problems": sum(wrong[sid] for sid in ids),
                "href": page_url(round_id, user, country, key, n),
                "check": check_url(round_id, user, country)
                + ("&" if user.country is None else "?")
                + f"section={key}"
                + (f"&part={n}" if n > 1 else ""),
            }
        )
    return overview


def check_answers(
    request: Request,
    user: users.User,
    csrf: str,
    rnd: consult.Round,
    country: str,
    status: int = 200,
    errors: list[str] | None = None,
    page: tuple[str, int] | None = None,
) -> Response:
    """Check your answers. A form of one page lists every answer; a longer one first shows each of
    its pages with its counts (``overview``), each listed in full on its own check page
    (``page``: ``?section=ts5-2&part=2``), so that no page carries the whole round. The summary
    of problems, and the submission, are the whole form's."""
    db = store(request)
    form = drafts.country_form(db, rnd.id, country)
    problems = [
        p
        for fr in form.rows.values()
        if (d := fr.draft) is not None
        for p in drafts.row_problems(d.statement_id, d.value, d.proposed_wording, d.note)
    ]
    # Only the rows with an answer or a draft are listed: only their texts are read.
    listed = {sid for sid, fr in form.rows.items() if fr.value or fr.draft}
    pages = form_pages(form)
    overview: list[dict[str, Any]] = []
    if page is not None:
        found = [ids for k, n, ids in pages if (k, n) == page]
        if not found or one_page(form):
            raise NotFound(
                "The answers of round %(round)s have no page %(page)s.",
                round=rnd.id,
                page=f"{page[0]} ({page[1]})",
            )
        listed &= set(found[0])
    elif not one_page(form):
        overview = check_overview(db, form, pages, problems, rnd.id, user, country)
        listed = set()
    context = answers_context(db, rnd, country, problems=problems, ids=listed, form=form)
    # Its links go to the fields on the form's pages, where each problem is put right.
    where = row_pages(form, rnd.id, user, country)
    for row in context["rows"]:
        row["href"] = where[row["id"]]
    for item, p in zip(context["summary"], problems, strict=True):
        item["href"] = where[p.statement_id] + item["href"]
    form_url = answers_url(rnd.id, user, country)
    return render(
        request,
        "check_answers.html",
        status=status,
        user=user,
        csrf=csrf,
        errors=errors or [],
        form_url=form_url,
        overview=overview,
        page=page,
        all_answers_url=check_url(rnd.id, user, country),
        unanswered_url=answers_url(rnd.id, user, country, show="unanswered"),
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
        message = i18n.error_text(exc)
        return check_answers(request, user, csrf, rnd, country, exc.status, [message])
    return RedirectResponse(
        answers_url(round_id, user, country, submitted=str(len(written))), status_code=303
    )


@router.post("/rounds/{round_id}/answers")
async def save_answers(request: Request, round_id: PathInt) -> Response:
    """The whole form sent as the country's answers at once (the form before drafts, and scripts):
    all or none, with each problem beside its field; the rows saved leave no draft behind. The
    page answering shows the rows sent (all of them on one page: whoever sent them all at once
    sees them all), as saved, or as typed when refused."""
    user, csrf = auth(request).signed_in(request)
    form = await auth(request).form_with_csrf(request, csrf)
    db = store(request)
    rnd = consult.get_round(db, round_id)
    country = consult.answering_country(user, str(form.get("country") or user.country or ""))
    fields = {key: str(value) for key, value in form.multi_items()}
    problems: list[drafts.FieldProblem] = []
    status, errors, typed = 200, [], None
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
        status, typed, saved = exc.status, fields, None
        if not isinstance(exc, drafts.FormProblems):
            errors = [i18n.error_text(exc)]
        reworded = consult.reworded_in_form(db, fields)
    sent_ids = {k[2:].strip().upper() for k in fields if k.startswith("v:")}
    state = drafts.country_form(db, rnd.id, country)
    return render(
        request,
        "answers.html",
        mode="all",
        status=status,
        user=user,
        csrf=csrf,
        errors=errors,
        saved=saved,
        drafted=None,
        submitted=None,
        country_query=country_query(user, country),
        **answers_context(
            db,
            rnd,
            country,
            typed,
            reworded,
            problems,
            ids=None if one_page(state) else sent_ids,
            form=state,
        ),
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
        problems = exc.problems if isinstance(exc, DocumentError) else []
        errors = [i18n.problem_text(p) for p in problems] or [i18n.error_text(exc)]
        reworded = []
    return await run_in_threadpool(
        answers_front,
        request,
        user,
        csrf,
        rnd,
        country,
        status=400 if errors else 200,
        errors=errors,
        saved=saved,
        reworded=reworded,
    )
