"""Web pages of the review queue (the Secretariat only): add a declaration, see each draft
statement with the machine's suggestions and why, accept it as suggested or edited, or reject it.
Who may do this is the core's rule (``rcm.review`` checks the Secretariat)."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from rcm import gcm, review
from rcm.errors import RcmError
from rcm.model import Category
from rcm.parse.declaration import MAX_BYTES, declaration_from_bytes
from rcm.store import Store
from rcm.web import i18n
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
    return render(
        request,
        "review.html",
        user=user,
        csrf=csrf,
        declarations=review.declarations(store(request)),
        proposals=review.proposals(store(request), declaration_id=declaration_id, state=state),
        state=state,
        declaration_id=declaration_id,
        error=None,
        form={},
    )


@router.post("/review/declarations")
async def add_declaration(request: Request) -> Response:
    user, csrf = auth(request).secretariat(request)
    form = await auth(request).form_with_csrf(request, csrf, max_fields=20, max_bytes=MAX_BODY)
    # Reading a Word file and suggesting themes for each statement takes a while: off the
    # event loop, so that other requests keep their latency meanwhile.
    return await run_in_threadpool(declaration_added, request, user, csrf, form)


def declaration_added(request: Request, user: Any, csrf: str, form: Any) -> Response:
    values = {
        k: str(form.get(k) or "").strip() for k in ("meeting", "year", "place", "date", "reference")
    }
    try:
        upload = form.get("file")
        if upload is None or isinstance(upload, str) or not upload.filename:
            raise RcmError(i18n.gettext("Choose the declaration file (.txt or .docx)."))
        # Problems are reported under the name the person chose (no folder of theirs or ours).
        name = PurePosixPath(upload.filename.replace("\\", "/")).name
        if PurePosixPath(name).suffix.lower() not in SUFFIXES:
            raise RcmError(
                i18n.gettext("A declaration must be a .txt or .docx file.") + f" ({name})"
            )
        year = query_int(values["year"])  # ASCII digits: "²".isdigit() is true
        if year is None:
            raise RcmError(i18n.gettext("Give the year of the meeting, e.g. 2017."))
        text = declaration_from_bytes(upload.file.read(MAX_BYTES + 1), name)
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
        return render(
            request,
            "review.html",
            status=exc.status,
            user=user,
            csrf=csrf,
            declarations=review.declarations(store(request)),
            proposals=review.proposals(store(request), state="pending"),
            state="pending",
            declaration_id=None,
            error=i18n.gettext(exc.message),
            form=values,
        )
    return RedirectResponse(f"/review?declaration={record.id}", status_code=303)


@router.get("/review/{proposal_id}")
def proposal_page(request: Request, proposal_id: PathInt) -> Response:
    user, csrf = auth(request).secretariat(request)
    return render_proposal(request, proposal_id, user, csrf)


def render_proposal(
    request: Request, proposal_id: int, user: Any, csrf: str, error: str | None = None
) -> Response:
    p = review.proposal(store(request), proposal_id)
    declaration = review.declaration_record(store(request), p.declaration_id)
    titles = gcm.objective_titles(store(request))
    sub_titles = store(request).subtheme_titles()
    return render(
        request,
        "proposal.html",
        status=400 if error else 200,
        user=user,
        csrf=csrf,
        p=p,
        declaration=declaration,
        themes=subthemes(store(request)),
        sub_titles={f"{a}.{b}": v for (a, b), v in sub_titles.items()},
        objectives=titles,
        categories=[c.value for c in Category],
        suggested_places={f"{a}.{b}" for a, b in p.suggested_placements},
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
                raise review.ReviewError(f"{v!r} is not a GCM objective (1–23)")
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
        return render_proposal(request, proposal_id, user, csrf, exc.message)
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
        return render_proposal(request, proposal_id, user, csrf, exc.message)
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
        return render_proposal(request, proposal_id, user, csrf, exc.message)
    return RedirectResponse(f"/review/{proposal_id}", status_code=303)
