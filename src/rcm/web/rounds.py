"""Web pages of the consultation: sign-in, rounds, a country's answers (form, questionnaire
download and upload), the dashboard and the regional position. Every form carries the session's
CSRF token; every page checks who may see it (``rcm.users``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.types import Message

from rcm import consult, users
from rcm.errors import RcmError
from rcm.store import Store, schema
from rcm.users import AuthError, Forbidden, Role, User
from rcm.web import charts, i18n
from rcm.web.auth import Auth, add_signin_routes
from rcm.web.params import PathInt, query_int

MAX_UPLOAD = consult.MAX_XLSX_BYTES
# The questionnaire and the form's few other fields (CSRF token, country) with their multipart
# headers.
MAX_UPLOAD_BODY = MAX_UPLOAD + 64 * 1024


class UploadTooLarge(RcmError):
    status = 413


def capped(request: Request, limit: int) -> Request:
    """The request, its body refused (413) beyond ``limit`` bytes: at once when Content-Length
    says so, else as soon as the bytes received cross it."""

    def too_large() -> UploadTooLarge:
        return UploadTooLarge(
            i18n.gettext("The file is too large: a questionnaire is at most %(size)s MB.")
            % {"size": MAX_UPLOAD // (1024 * 1024)}
        )

    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large()
    receive = request.receive
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise too_large()
        return message

    return Request(request.scope, counted)


Render = Callable[..., Response]


def add_round_routes(app: FastAPI, store: Store, render: Render) -> None:
    add_signin_routes(app, store, render)
    auth = Auth(store)
    viewer, signed_in, form_with_csrf = auth.viewer, auth.signed_in, auth.form_with_csrf

    def can_see_results(user: User | None, rnd: consult.Round) -> bool:
        if user is not None and user.role in (Role.SECRETARIAT, Role.OBSERVER):
            return True
        return rnd.public and rnd.state == "closed"

    def require_results(user: User | None, rnd: consult.Round) -> None:
        if not can_see_results(user, rnd):
            raise (Forbidden if user else AuthError)(
                i18n.gettext(
                    "Only the Secretariat and observers see the results before they are published."
                )
            )

    def answering_country(user: User, requested: str | None) -> str:
        if user.role is Role.FOCAL_POINT:
            if requested and requested.upper() != user.country:
                raise Forbidden(i18n.gettext("You may only see and answer for your own country."))
            return str(user.country)
        if user.role is Role.SECRETARIAT:
            code = (requested or "").upper()
            if code not in consult.member_countries():
                raise RcmError(i18n.gettext("Choose a Member Country."))
            return code
        raise Forbidden(i18n.gettext("Observers may comment but never answer for a country."))

    @app.get("/rounds", include_in_schema=False)
    def rounds_page(request: Request) -> Response:
        found = viewer(request)
        user = found[0] if found else None
        rounds = consult.list_rounds(store)
        if user is None:
            rounds = [r for r in rounds if r.public and r.state == "closed"]
        return render(
            request, "rounds.html", rounds=rounds, user=user, csrf=found[1] if found else ""
        )

    secretariat = auth.secretariat

    @app.post("/rounds", include_in_schema=False)
    async def open_round(request: Request) -> Response:
        user, csrf = secretariat(request)
        form = await form_with_csrf(request, csrf)
        from rcm.search import make_filters

        filters = make_filters(
            store,
            themes=[str(v) for v in form.getlist("theme")][:6],
            categories=[str(v) for v in form.getlist("category") if v][:4],
        )
        rnd = consult.open_round(
            store,
            str(form.get("title", ""))[:300],
            filters=filters,
            purpose=str(form.get("purpose", ""))[:2000],
            deadline=str(form.get("deadline") or "") or None,
            silence_is_consent=bool(form.get("silence")),
            public=bool(form.get("public")),
            actor=user,
        )
        return RedirectResponse(f"/rounds/{rnd.id}", status_code=303)

    @app.post("/rounds/{round_id}/state", include_in_schema=False)
    async def change_state(request: Request, round_id: PathInt) -> Response:
        user, csrf = secretariat(request)
        form = await form_with_csrf(request, csrf)
        if form.get("state") == "closed":
            consult.close_round(store, round_id, user)
        elif form.get("state") == "open":
            consult.reopen_round(store, round_id, user)
        else:
            raise RcmError("state must be open or closed")
        return RedirectResponse(f"/rounds/{round_id}", status_code=303)

    @app.get("/rounds/{round_id}", include_in_schema=False)
    def round_page(request: Request, round_id: PathInt) -> Response:
        found = viewer(request)
        user = found[0] if found else None
        rnd = consult.get_round(store, round_id)
        if not can_see_results(user, rnd) and user is not None and user.role is Role.FOCAL_POINT:
            return RedirectResponse(f"/rounds/{round_id}/answers", status_code=303)
        require_results(user, rnd)
        status = consult.round_status(store, round_id)
        themes = sorted({t for s in status["statements"] for t in s["themes"]})
        rows = []
        for country in consult.member_countries():
            counts: Counter[str] = Counter()
            for s in status["statements"]:
                if s["answers"][country]:
                    for t in s["themes"]:
                        counts[f"TS{t}"] += 1
            rows.append({"label": country, "counts": dict(counts)})
        grid = Markup(
            charts.heat_table(
                rows,
                [f"TS{t}" for t in themes],
                i18n.gettext("Answers by country and theme"),
                {},
                row_label=lambda r: str(r["label"]),
            )
        )
        return render(
            request,
            "round.html",
            data=status,
            grid=grid,
            user=user,
            csrf=found[1] if found else "",
            comments=consult.comments(store, round_id),
        )

    @app.post("/rounds/{round_id}/comments", include_in_schema=False)
    async def comment(request: Request, round_id: PathInt) -> Response:
        user, csrf = signed_in(request)
        form = await form_with_csrf(request, csrf)
        consult.add_comment(
            store,
            user,
            round_id,
            str(form.get("statement", ""))[:40],
            str(form.get("text", ""))[: consult.MAX_COMMENT + 1],
        )
        return RedirectResponse(f"/rounds/{round_id}#comments", status_code=303)

    @app.get("/rounds/{round_id}/position", include_in_schema=False)
    def position_page(request: Request, round_id: PathInt) -> Response:
        found = viewer(request)
        user = found[0] if found else None
        require_results(user, consult.get_round(store, round_id))
        return render(
            request,
            "position.html",
            data=consult.regional_position(store, round_id),
            user=user,
            csrf=found[1] if found else "",
        )

    def answers_context(rnd: consult.Round, country: str) -> dict[str, Any]:
        status = consult.round_status(store, rnd.id)
        mine = {o.statement_id: o for o in consult.opinions(store, rnd.id) if o.country == country}
        ids = [s["id"] for s in status["statements"]]
        texts = {s.id: s.text for s, _ in store.statements_where(schema.statements.c.id.in_(ids))}
        return {
            "round": rnd,
            "country": country,
            "rows": [
                {"id": s["id"], "text": texts.get(s["id"], ""), "opinion": mine.get(s["id"])}
                for s in status["statements"]
            ],
            "choices": [v.value for v in consult.OpinionValue],
            "max_wording": consult.MAX_WORDING,
            "max_comment": consult.MAX_COMMENT,
        }

    @app.get("/rounds/{round_id}/answers", include_in_schema=False)
    def answers_page(request: Request, round_id: PathInt) -> Response:
        user, csrf = signed_in(request)
        rnd = consult.get_round(store, round_id)
        country = answering_country(user, request.query_params.get("country") or user.country)
        return render(
            request,
            "answers.html",
            user=user,
            csrf=csrf,
            errors=[],
            saved=None,
            **answers_context(rnd, country),
        )

    @app.post("/rounds/{round_id}/answers", include_in_schema=False)
    async def save_answers(request: Request, round_id: PathInt) -> Response:
        user, csrf = signed_in(request)
        form = await form_with_csrf(request, csrf)
        rnd = consult.get_round(store, round_id)
        country = answering_country(user, str(form.get("country") or user.country or ""))
        users.check_can_answer(user, country, rnd.state)
        current = {
            o.statement_id: o for o in consult.opinions(store, round_id) if o.country == country
        }
        answers = []
        for key in form:
            if not key.startswith("v:"):
                continue
            sid = key[2:]
            value = str(form.get(key) or "").strip()
            if not value:
                continue
            wording = str(form.get(f"w:{sid}") or "").strip() or None
            note = str(form.get(f"c:{sid}") or "").strip() or None
            version = str(form.get(f"ver:{sid}") or "0")
            before = current.get(sid)
            reason = note if value == consult.OpinionValue.NO_LONGER_VALID.value else None
            comment = None if reason else note
            if before and (
                before.value.value,
                before.proposed_wording,
                before.reason,
                before.comment,
            ) == (value, wording, reason, comment):
                continue
            answers.append(
                consult.Answer(sid, value, wording, reason, comment, query_int(version) or 0)
            )
        try:
            written = consult.set_opinions(
                store, round_id, country, answers, author=user, source="web"
            )
        except RcmError as exc:
            if exc.status not in (400, 409):
                raise
            return render(
                request,
                "answers.html",
                status=exc.status,
                user=user,
                csrf=csrf,
                errors=[exc.message],
                saved=None,
                **answers_context(rnd, country),
            )
        return render(
            request,
            "answers.html",
            user=user,
            csrf=csrf,
            errors=[],
            saved=len(written),
            **answers_context(rnd, country),
        )

    @app.get("/rounds/{round_id}/questionnaire.xlsx", include_in_schema=False)
    def questionnaire(request: Request, round_id: PathInt) -> Response:
        user, _ = signed_in(request)
        country = answering_country(user, request.query_params.get("country") or user.country)
        from rcm.export.questionnaire import write_questionnaire

        data = write_questionnaire(store, round_id, country)
        name = quote(f"rcm-round-{round_id}-{country}.xlsx")
        return Response(
            data,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f"attachment; filename={name}"},
        )

    @app.post("/rounds/{round_id}/questionnaire", include_in_schema=False)
    async def upload(request: Request, round_id: PathInt) -> Response:
        user, csrf = signed_in(request)
        # The body is counted as it arrives: a client sending more than a questionnaire may be
        # is cut off there, not after the whole body is spooled to disk.
        form = await form_with_csrf(capped(request, MAX_UPLOAD_BODY), csrf)
        rnd = consult.get_round(store, round_id)
        country = answering_country(user, str(form.get("country") or user.country or ""))
        users.check_can_answer(user, country, rnd.state)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise RcmError(i18n.gettext("Choose the questionnaire file to send."))
        data = await upload.read(MAX_UPLOAD + 1)
        errors: list[str] = []
        saved = None
        try:
            # Off the event loop: reading and checking a questionnaire takes up to a second or two,
            # and the worker's other requests must not wait for it.
            result = await run_in_threadpool(
                consult.import_questionnaire,
                store,
                round_id,
                data,
                upload.filename or "upload.xlsx",
                user,
                expected_country=country,
            )
            saved = result.written
        except RcmError as exc:
            errors = [str(p) for p in getattr(exc, "problems", [])] or [exc.message]
        context = await run_in_threadpool(answers_context, rnd, country)
        return render(
            request,
            "answers.html",
            status=400 if errors else 200,
            user=user,
            csrf=csrf,
            errors=errors,
            saved=saved,
            **context,
        )
