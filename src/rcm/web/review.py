"""Web pages of the review queue (the Secretariat only): add a declaration, see each draft
statement with the machine's suggestions and why, accept it as suggested or edited, or reject it.
Who may do this is the core's rule (``rcm.review`` checks the Secretariat)."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from rcm import gcm, review, translate
from rcm.consult import ConflictError
from rcm.errors import BadInput, NotFound, RcmError
from rcm.model import Category, DeclarationText
from rcm.parse.declaration import MAX_BYTES, declaration_from_bytes
from rcm.store import Store
from rcm.suggest import readable_evidence
from rcm.web import i18n, pages
from rcm.web.deps import auth, render, store
from rcm.web.params import PathInt, query_int

SUFFIXES = (".txt", ".docx")
# The declaration and the form's few short fields, with room for the multipart framing.
MAX_BODY = MAX_BYTES + 64_000


router = APIRouter(include_in_schema=False)


def subthemes(db: Store) -> list[dict[str, Any]]:
    return [
        {
            "theme": th.number,
            "title": th.title,
            "subthemes": [{"order": s.order, "title": s.title} for s in th.subthemes],
        }
        for th in db.themes()
    ]


@router.get("/review")
def review_page(request: Request) -> Response:
    user, csrf = auth(request).secretariat(request)
    state = request.query_params.get("state") or None
    declaration_id = query_int(request.query_params.get("declaration"))
    return render_review(request, user, csrf, declaration_id, state)


def render_review(
    request: Request,
    user: Any,
    csrf: str,
    declaration_id: int | None,
    state: str | None,
    error: RcmError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    """The review page: the declarations, the one chosen (its preamble and closing paragraphs
    numbered, with what may be done to it), and its proposals; with an error if one is given."""
    db = store(request)
    chosen = review.declaration_record(db, declaration_id) if declaration_id else None
    reading = (
        reading_rows(chosen, review.proposals(db, declaration_id=chosen.id)) if chosen else None
    )
    return render(
        request,
        "review.html",
        status=error.status if error else 200,
        user=user,
        csrf=csrf,
        declarations=review.declarations(db),
        declaration=chosen,
        reading=reading,
        proposals=review.proposals(db, declaration_id=declaration_id, state=state),
        state=state,
        declaration_id=declaration_id,
        error=i18n.error_text(error) if error else None,
        form=form or {},
    )


def reading_rows(
    d: review.Declaration, queue: list[review.Proposal]
) -> list[dict[str, Any]] | None:
    """The declaration as the reader took it, in document order, to check against the paper:
    each paragraph's line number(s), what it was read as, its text, and for a statement the
    proposal it was queued as, with its suggested category. None where the reading was not kept
    (a declaration added before it was)."""
    if d.reading is None:
        return None
    by_id = {p.id: p for p in queue}
    last_line: dict[int, int] = {}  # a statement's last line: its last item's
    for r in d.reading:
        if r.statement:
            last_line[r.statement] = max(last_line.get(r.statement, r.line), r.line)
    rows = []
    for r in sorted(d.reading, key=lambda r: r.line):  # stable: one line's parts keep their order
        opens = r.part == "statement" or (r.part == "unrecognised" and r.statement > 0)
        end = last_line.get(r.statement, r.line) if opens else r.line
        pid = d.read_as.get(r.statement) if opens else None
        rows.append(
            {
                "line": r.line,
                "lines": f"{r.line}–{end}" if end > r.line else str(r.line),
                "part": r.part,
                "kind": "statement" if opens else r.part,
                "statement": r.statement,
                "doubt": opens and r.part == "unrecognised",
                "text": f"{r.marker} {r.text}" if r.marker else r.text,
                "proposal_id": pid,
                "proposal": by_id.get(pid) if pid is not None else None,
            }
        )
    return rows


@router.post("/review/declarations")
async def add_declaration(request: Request) -> Response:
    user, csrf = auth(request).secretariat(request)
    form = await auth(request).form_with_csrf(request, csrf, max_fields=20, max_bytes=MAX_BODY)
    # Reading a Word file and suggesting themes for each statement takes a while: off the
    # event loop, so that other requests keep their latency meanwhile.
    return await run_in_threadpool(declaration_added, request, user, csrf, form)


def uploaded_declaration(form: Any) -> DeclarationText:
    """The declaration file of an upload form, read and split."""
    upload = form.get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        raise RcmError(i18n.gettext("Choose the declaration file (.txt or .docx)."))
    # Problems are reported under the name the person chose (no folder of theirs or ours).
    name = PurePosixPath(upload.filename.replace("\\", "/")).name
    if PurePosixPath(name).suffix.lower() not in SUFFIXES:
        raise RcmError(i18n.gettext("A declaration must be a .txt or .docx file.") + f" ({name})")
    return declaration_from_bytes(upload.file.read(MAX_BYTES + 1), name)


def declaration_added(request: Request, user: Any, csrf: str, form: Any) -> Response:
    values = {
        k: str(form.get(k) or "").strip() for k in ("meeting", "year", "place", "date", "reference")
    }
    try:
        year = query_int(values["year"])  # ASCII digits: "²".isdigit() is true
        if year is None:
            raise RcmError(i18n.gettext("Give the year of the meeting, e.g. 2017."))
        text = uploaded_declaration(form)
        record, _ = review.add_declaration(
            store(request),
            text,
            meeting=values["meeting"],
            year=year,
            extraordinary=bool(form.get("extraordinary")),
            place=values["place"] or None,
            date=values["date"] or None,
            reference=values["reference"] or None,
            actor=user,
        )
    except RcmError as exc:
        return render_review(request, user, csrf, None, "pending", exc, values)
    return RedirectResponse(f"/review?declaration={record.id}", status_code=303)


# --- translations: wordings in the other language (docs/spanish-edition.md) ---------------------


@router.get("/review/translations")
def translations_page(request: Request) -> Response:
    user, csrf = auth(request).secretariat(request)
    state = request.query_params.get("state") or "pending"
    page = request.query_params.get("page") or "1"
    number = int(page) if page.isdigit() and len(page) <= 6 else 0  # 0: no such page
    return render_translations(request, user, csrf, state, page=number)


def render_translations(
    request: Request,
    user: Any,
    csrf: str,
    state: str,
    error: RcmError | None = None,
    page: int = 1,
) -> Response:
    queue = pages.translation_queue(store(request), state, page)
    return render(
        request,
        "translations.html",
        status=error.status if error else 200,
        user=user,
        csrf=csrf,
        state=state,
        queue=queue,
        items=queue["items"],
        error=i18n.gettext(error.message) if error else None,
    )


@router.post("/review/translations/{translation_id}/accept")
async def accept_translation(request: Request, translation_id: PathInt) -> Response:
    user, csrf = auth(request).secretariat(request)
    form = await auth(request).form_with_csrf(request, csrf, max_fields=10)
    text = str(form.get("text") or "").strip()
    try:
        x = translate.translation(store(request), translation_id)
        translate.accept_translation(
            store(request), translation_id, actor=user, text=text if text != x.text else None
        )
    except (BadInput, ConflictError) as exc:
        return render_translations(request, user, csrf, "pending", exc)
    return RedirectResponse("/review/translations", status_code=303)


@router.post("/review/translations/{translation_id}/reject")
async def reject_translation(request: Request, translation_id: PathInt) -> Response:
    user, csrf = auth(request).secretariat(request)
    form = await auth(request).form_with_csrf(request, csrf, max_fields=10)
    try:
        translate.reject_translation(
            store(request), translation_id, actor=user, reason=str(form.get("reason") or "")
        )
    except (BadInput, ConflictError) as exc:
        return render_translations(request, user, csrf, "pending", exc)
    return RedirectResponse("/review/translations", status_code=303)


@router.get("/review/{proposal_id}")
def proposal_page(request: Request, proposal_id: PathInt) -> Response:
    user, csrf = auth(request).secretariat(request)
    return render_proposal(request, proposal_id, user, csrf)


def render_proposal(
    request: Request,
    proposal_id: int,
    user: Any,
    csrf: str,
    error: str | None = None,
    status: int = 400,
) -> Response:
    p = review.proposal(store(request), proposal_id)
    declaration = review.declaration_record(store(request), p.declaration_id)
    titles = gcm.objective_titles(store(request))
    sub_titles = store(request).subtheme_titles()
    said = p.suggestions
    evidence = {
        "category": readable_evidence(said["category"].get("evidence", []), p.text, p.lang),
        **{
            o["objective"]: readable_evidence(o.get("evidence", []), p.text, p.lang)
            for o in said.get("objectives", [])
        },
    }
    return render(
        request,
        "proposal.html",
        evidence=evidence,
        status=status if error else 200,
        user=user,
        csrf=csrf,
        p=p,
        declaration=declaration,
        themes=subthemes(store(request)),
        sub_titles={f"{a}.{b}": v for (a, b), v in sub_titles.items()},
        objectives=titles,
        categories=[c.value for c in Category],
        suggested_places={f"{a}.{b}" for a, b in p.suggested_placements},
        parts=review.split_points(p),
        error=error,
    )


def next_pending(db: Store, p: review.Proposal) -> str:
    pending = review.proposals(db, declaration_id=p.declaration_id, state="pending")
    later = [x for x in pending if x.position > p.position] or pending
    return f"/review/{later[0].id}" if later else f"/review?declaration={p.declaration_id}"


@router.post("/review/{proposal_id}/accept")
async def accept(request: Request, proposal_id: PathInt) -> Response:
    user, csrf = auth(request).secretariat(request)
    form = await auth(request).form_with_csrf(request, csrf, max_fields=100)
    try:
        places = [review.parse_placement(str(v)) for v in form.getlist("place")]
        objectives = []
        for v in form.getlist("objective"):
            number = query_int(str(v))
            if number is None:
                raise review.ReviewError("%(value)s is not a GCM objective (1–23)", value=repr(v))
            objectives.append(number)
        if not places:
            raise review.ReviewError(
                i18n.gettext("File the statement under at least one sub-theme.")
            )
        p = review.accept_proposal(
            store(request),
            proposal_id,
            actor=user,
            text=str(form.get("text") or "")[: review.MAX_TEXT + 1],
            category=str(form.get("category") or ""),
            placements=places,
            objectives=objectives,
        )
    except review.ReviewError as exc:
        return render_proposal(request, proposal_id, user, csrf, i18n.error_text(exc))
    return RedirectResponse(next_pending(store(request), p), status_code=303)


@router.post("/review/{proposal_id}/reject")
async def reject(request: Request, proposal_id: PathInt) -> Response:
    user, csrf = auth(request).secretariat(request)
    form = await auth(request).form_with_csrf(request, csrf, max_fields=10)
    try:
        p = review.reject_proposal(
            store(request), proposal_id, actor=user, reason=str(form.get("reason") or "")
        )
    except review.ReviewError as exc:
        return render_proposal(request, proposal_id, user, csrf, i18n.error_text(exc))
    return RedirectResponse(next_pending(store(request), p), status_code=303)


@router.post("/review/{proposal_id}/reopen")
async def reopen(request: Request, proposal_id: PathInt) -> Response:
    user, csrf = auth(request).secretariat(request)
    form = await auth(request).form_with_csrf(request, csrf, max_fields=10)
    try:
        review.reopen_proposal(
            store(request), proposal_id, actor=user, reason=str(form.get("reason") or "")
        )
    except review.ReviewError as exc:
        return render_proposal(request, proposal_id, user, csrf, i18n.error_text(exc))
    return RedirectResponse(f"/review/{proposal_id}", status_code=303)


# --- correcting the queue -------------------------------------------------------------------------


async def _declaration_form(request: Request) -> tuple[Any, str, Any]:
    user, csrf = auth(request).secretariat(request)
    form = await auth(request).form_with_csrf(request, csrf, max_fields=10)
    return user, csrf, form


def _declaration_failed(
    request: Request, user: Any, csrf: str, declaration_id: int, exc: RcmError
) -> Response:
    if isinstance(exc, NotFound):
        raise exc
    return render_review(request, user, csrf, declaration_id, None, exc)


@router.post("/review/declarations/{declaration_id}/promote")
async def promote(request: Request, declaration_id: PathInt) -> Response:
    user, csrf, form = await _declaration_form(request)
    try:
        number = query_int(str(form.get("number") or ""))
        if number is None:
            raise review.ReviewError(i18n.gettext("Choose the paragraph to promote."))
        p = await run_in_threadpool(
            review.promote_paragraph,
            store(request),
            declaration_id,
            str(form.get("part") or ""),
            number,
            actor=user,
        )
    except RcmError as exc:
        return _declaration_failed(request, user, csrf, declaration_id, exc)
    return RedirectResponse(f"/review/{p.id}", status_code=303)


@router.post("/review/declarations/{declaration_id}/add")
async def add_by_hand(request: Request, declaration_id: PathInt) -> Response:
    user, csrf, form = await _declaration_form(request)
    try:
        p = await run_in_threadpool(
            review.add_proposal,
            store(request),
            declaration_id,
            str(form.get("text") or "")[: review.MAX_TEXT + 1],
            actor=user,
        )
    except RcmError as exc:
        return _declaration_failed(request, user, csrf, declaration_id, exc)
    return RedirectResponse(f"/review/{p.id}", status_code=303)


@router.post("/review/declarations/{declaration_id}/withdraw")
async def withdraw(request: Request, declaration_id: PathInt) -> Response:
    user, csrf, form = await _declaration_form(request)
    try:
        review.withdraw_declaration(
            store(request), declaration_id, reason=str(form.get("reason") or ""), actor=user
        )
    except RcmError as exc:
        return _declaration_failed(request, user, csrf, declaration_id, exc)
    return RedirectResponse(f"/review?declaration={declaration_id}", status_code=303)


@router.post("/review/declarations/{declaration_id}/replace")
async def replace(request: Request, declaration_id: PathInt) -> Response:
    user, csrf = auth(request).secretariat(request)
    form = await auth(request).form_with_csrf(request, csrf, max_fields=20, max_bytes=MAX_BODY)
    return await run_in_threadpool(replaced, request, user, csrf, declaration_id, form)


def replaced(request: Request, user: Any, csrf: str, declaration_id: int, form: Any) -> Response:
    try:
        text = uploaded_declaration(form)
        closed = review.replace_declaration(
            store(request),
            declaration_id,
            text,
            actor=user,
            reason=str(form.get("reason") or "") or None,
        )
    except RcmError as exc:
        return _declaration_failed(request, user, csrf, declaration_id, exc)
    assert closed.replacement is not None
    return RedirectResponse(f"/review?declaration={closed.replacement.id}", status_code=303)


@router.post("/review/{proposal_id}/split")
async def split(request: Request, proposal_id: PathInt) -> Response:
    user, csrf = auth(request).secretariat(request)
    form = await auth(request).form_with_csrf(request, csrf, max_fields=10)
    at = str(form.get("at") or "").strip() or None
    try:
        sentence = None if at else query_int(str(form.get("sentence") or ""))
        a, _ = await run_in_threadpool(
            review.split_proposal,
            store(request),
            proposal_id,
            at=at,
            sentence=sentence,
            actor=user,
        )
    except (review.ReviewError, ConflictError) as exc:
        return render_proposal(request, proposal_id, user, csrf, i18n.error_text(exc), exc.status)
    return RedirectResponse(f"/review/{a.id}", status_code=303)


@router.post("/review/{proposal_id}/merge")
async def merge(request: Request, proposal_id: PathInt) -> Response:
    user, csrf = auth(request).secretariat(request)
    await auth(request).form_with_csrf(request, csrf, max_fields=10)
    try:
        p = await run_in_threadpool(review.merge_proposal, store(request), proposal_id, actor=user)
    except (review.ReviewError, ConflictError) as exc:
        return render_proposal(request, proposal_id, user, csrf, i18n.error_text(exc), exc.status)
    return RedirectResponse(f"/review/{p.id}", status_code=303)
