"""Editing a statement on the web (the Secretariat only) and its history page (anyone). A thin
shell over ``rcm.edit``: the form is built from the statement's wording ``version`` and the last
audited change it had (``seen``); saving sends both back and ``rcm.edit.edit_statement`` applies
every part that changed in one transaction, or refuses when the statement moved on meanwhile.
Then the conflict page shows what the other person changed and keeps what this person typed,
merged onto the current statement, to save again. Who may edit is the core's rule
(``rcm.users.check_secretariat``, through ``Auth.secretariat`` and ``rcm.edit``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from rcm import edit
from rcm.errors import BadInput, ConflictError
from rcm.parse.text import collapse
from rcm.users import User
from rcm.web import i18n, pages
from rcm.web.deps import auth, render, store, viewer
from rcm.web.params import query_int

router = APIRouter(include_in_schema=False)

ORIGIN = "web"
PARTS = {"wording": ("text", "heading", "items"), "category": ("category",)}
PARTS |= {"places": ("places",), "objectives": ("objectives",)}


@router.get("/statements/{statement_id}/history")
def history_html(request: Request, statement_id: str) -> Response:
    who = viewer(request)
    data = pages.history_page(store(request), statement_id, who)
    return render(request, "history.html", data=data, can_edit=pages.is_secretariat(who))


@router.get("/statements/{statement_id}/edit")
def edit_page(request: Request, statement_id: str) -> Response:
    if auth(request).viewer(request) is None:
        return RedirectResponse("/login?next=" + quote(request.url.path), status_code=303)
    _, csrf = auth(request).secretariat(request)
    state = pages.edit_state(store(request), statement_id)
    return render_edit(request, state, csrf, state["values"])


def render_edit(
    request: Request,
    state: dict[str, Any],
    csrf: str,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
    **extra: Any,
) -> Response:
    return render(
        request,
        "statement_edit.html",
        status=status,
        user=viewer(request),
        s=state,
        csrf=csrf,
        form=values,
        errors=errors or {},
        choices=pages.edit_choices(store(request)),
        conflict=extra.get("conflict"),
        reason=extra.get("reason", ""),
        retire_places=extra.get("retire_places"),
    )


# --- saving the form ---------------------------------------------------------------------------


def submitted(form: Any, is_list: bool) -> dict[str, Any]:
    """What the person typed and chose, as the form holds it (kept on every error)."""
    values: dict[str, Any] = {
        "text": str(form.get("text") or ""),
        "heading": str(form.get("heading") or ""),
        "items": str(form.get("items") or ""),
        "category": str(form.get("category") or ""),
        "places": sorted({str(v) for v in form.getlist("place")}),
        "objectives": [n for n in (query_int(str(v)) for v in form.getlist("objective")) if n],
    }
    if is_list:
        values["text"] = edit.list_text(collapse(values["heading"]), item_lines(values["items"]))
    return values


def item_lines(items: str) -> list[str]:
    return [collapse(x) for x in items.splitlines() if collapse(x)]


def norm(values: dict[str, Any], part: str) -> Any:
    """A part of the form's values as compared: words, not spacing; sets, not order."""
    if part == "wording":
        items = item_lines(values["items"])
        return (collapse(values["heading"]), items) if items else collapse(values["text"])
    if part in ("places", "objectives"):
        return sorted(set(values[part]))
    return values[part]


def wording_part(state: dict[str, Any], values: dict[str, Any], errors: dict[str, str]) -> Any:
    """The new wording (text, heading, items) if the person changed it, else None."""
    if state["is_list"]:
        items = item_lines(values["items"])
        if not items:
            errors["items"] = i18n.gettext("A list statement needs at least one item.")
            return None
        heading = collapse(values["heading"]) or None
        wording = (edit.list_text(heading, items), heading, tuple(items))
    else:
        text = collapse(values["text"])
        if not text:
            errors["text"] = i18n.gettext("The wording cannot be empty.")
            return None
        wording = (text, None, ())
    if len(wording[0]) > edit.MAX_TEXT:
        field = "items" if state["is_list"] else "text"
        errors[field] = i18n.gettext("The wording is too long: at most %(n)s characters.") % {
            "n": edit.MAX_TEXT
        }
        return None
    return None if norm(values, "wording") == norm(state["values"], "wording") else wording


def changed_parts(
    state: dict[str, Any], values: dict[str, Any], choices: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The arguments of ``edit.edit_statement`` for the parts that changed, and the form's errors
    by field (checked here so that each is shown beside its field; the core checks again)."""
    errors: dict[str, str] = {}
    current = state["values"]
    parts: dict[str, Any] = {"wording": wording_part(state, values, errors)}
    if values["category"] not in {"", *(c["name"] for c in choices["categories"])}:
        errors["category"] = i18n.gettext("Choose one of the three categories.")
    elif values["category"] and values["category"] != current["category"]:
        parts["category"] = values["category"]
    if state["retired_at"] is None:
        known = {f"{th['theme']}.{s['order']}" for th in choices["themes"] for s in th["subthemes"]}
        if not values["places"] or not set(values["places"]) <= known:
            errors["places"] = i18n.gettext("File the statement under at least one sub-theme.")
        elif norm(values, "places") != norm(current, "places"):
            parts["places"] = [tuple(int(n) for n in p.split(".")) for p in values["places"]]
    wanted = values["objectives"]
    if not set(wanted) <= set(choices["objectives"]):
        errors["objectives"] = i18n.gettext("Choose GCM objectives from the list (1–23).")
    elif set(wanted) != set(current["objectives"]):
        kept = [n for n in current["objectives"] if n in wanted]
        parts["objectives"] = kept + sorted(set(wanted) - set(kept))
    return parts, errors


@router.post("/statements/{statement_id}/edit")
async def save(request: Request, statement_id: str) -> Response:
    user, csrf = auth(request).secretariat(request)
    form = await auth(request).form_with_csrf(request, csrf, max_fields=200)
    return await run_in_threadpool(saved, request, statement_id, user, csrf, form)


def form_base(form: Any) -> tuple[int, int]:
    """The version and the last change the form was built from."""
    version, seen = query_int(str(form.get("version"))), query_int(str(form.get("seen")))
    if version is None or seen is None:
        raise BadInput(i18n.gettext("This form lacks the version it was made from: reload it."))
    return version, seen


def saved(request: Request, statement_id: str, user: User, csrf: str, form: Any) -> Response:
    db = store(request)
    state = pages.edit_state(db, statement_id)
    version, seen = form_base(form)
    values = submitted(form, state["is_list"])
    parts, errors = changed_parts(state, values, pages.edit_choices(db))
    shown = dict(state, version=version, seen=seen)  # an error keeps the form's own base
    if errors:
        return render_edit(request, shown, csrf, values, errors, status=400)
    try:
        changes = edit.edit_statement(
            db,
            state["id"],
            expected_version=version,
            seen_event=seen,
            actor=user,
            origin=ORIGIN,
            **parts,
        )
    except ConflictError as exc:
        now = pages.edit_state(db, statement_id)
        if now["version"] != version or now["seen"] > seen:
            return conflict_page(request, state["id"], user, csrf, values, (version, seen))
        field = "items" if state["is_list"] else "text"  # its meeting has this wording already
        return render_edit(
            request,
            shown,
            csrf,
            values,
            {field: i18n.error_text(exc)},
            status=exc.status,
        )
    except BadInput as exc:
        errors = {"summary": i18n.error_text(exc)}
        return render_edit(request, shown, csrf, values, errors, status=exc.status)
    return RedirectResponse(f"/statements/{state['id']}?saved={len(changes)}", status_code=303)


# --- a conflict: someone else changed the statement after the form was made --------------------


def base_values(current: dict[str, Any], history: dict[str, Any], version: int, seen: int) -> Any:
    """The statement as the form was made from it: its wording ``version``, and each other part
    as the first change after ``seen`` found it (else as it is now)."""
    base = dict(current)
    for v in history["versions"]:
        if v["version"] == version:
            base.update(text=v["text"], heading=v["heading"] or "", items="\n".join(v["items"]))
    found: set[str] = set()

    def keys(places: Any) -> list[str]:
        return sorted(f"{p['theme']}.{p['subtheme']}" for p in places or [])

    for e in history["events"]:
        if e["id"] <= seen or e["kind"] is None:
            continue
        before, kind = e["before"], e["kind"]
        part = {"recategorised": "category", "objectives": "objectives"}.get(kind, "places")
        if part in found or kind in ("reworded", "added"):
            continue
        found.add(part)
        if kind == "recategorised":
            base["category"] = before or ""
        elif kind == "objectives":
            base["objectives"] = list(before or [])
        elif kind in ("re-placed", "retired"):
            base["places"] = keys(before if kind == "re-placed" else before.get("placements"))
        elif kind == "unretired":
            base["places"] = []
    return base


def merged_values(
    base: dict[str, Any], mine: dict[str, Any], theirs: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """This person's edits on the statement as it is now: each part they changed as they typed
    it, each other part as it is now; and the parts both changed, differently."""
    merged = dict(theirs)
    both = []
    for part, fields in PARTS.items():
        if norm(mine, part) == norm(base, part):
            continue
        merged.update({f: mine[f] for f in fields})
        if norm(theirs, part) != norm(base, part) and norm(theirs, part) != norm(mine, part):
            both.append(part)
    return merged, both


def conflict_page(
    request: Request,
    sid: str,
    user: User,
    csrf: str,
    mine: dict[str, Any],
    made_from: tuple[int, int],
) -> Response:
    db = store(request)
    version, seen = made_from
    now = pages.edit_state(db, sid)
    history = pages.history_page(db, now["id"], user)
    base = base_values(now["values"], history, version, seen)
    merged, both = merged_values(base, mine, now["values"])
    conflict = {
        "versions": [v for v in history["versions"] if v["version"] > version],
        "events": [e for e in history["events"] if e["id"] > seen],
        "both": both,
        "wording_diff": pages.word_diff(now["values"]["text"], merged["text"]),
    }
    return render_edit(request, now, csrf, merged, status=409, conflict=conflict)


# --- retiring a statement, and bringing it back ---------------------------------------------------


@router.post("/statements/{statement_id}/retire")
async def retire(request: Request, statement_id: str) -> Response:
    user, csrf = auth(request).secretariat(request)
    form = await auth(request).form_with_csrf(request, csrf, max_fields=200)
    return await run_in_threadpool(retirement, request, statement_id, user, csrf, form, True)


@router.post("/statements/{statement_id}/unretire")
async def unretire(request: Request, statement_id: str) -> Response:
    user, csrf = auth(request).secretariat(request)
    form = await auth(request).form_with_csrf(request, csrf, max_fields=200)
    return await run_in_threadpool(retirement, request, statement_id, user, csrf, form, False)


def retirement(
    request: Request, statement_id: str, user: User, csrf: str, form: Any, retiring: bool
) -> Response:
    db = store(request)
    state = pages.edit_state(db, statement_id)
    reason = str(form.get("reason") or "")[: edit.MAX_REASON]
    places = sorted({str(v) for v in form.getlist("place")})
    numbers = [[query_int(n) for n in p.split(".")] for p in places]
    pairs = [(a, b) for a, b in (n for n in numbers if len(n) == 2) if a and b]
    version = query_int(str(form.get("version")))
    errors: dict[str, str] = {}
    if not collapse(reason):
        errors["reason"] = i18n.gettext("Give the reason: the history page shows it.")
    else:
        try:
            common: dict[str, Any] = {"actor": user, "origin": ORIGIN, "reason": reason}
            if version is None:
                raise BadInput(i18n.gettext("This form lacks the version it was made from."))
            if retiring:
                edit.retire(db, state["id"], expected_version=version, **common)
            else:
                edit.unretire(
                    db, state["id"], placements=pairs or None, expected_version=version, **common
                )
            return RedirectResponse(f"/statements/{state['id']}?saved=1", status_code=303)
        except (BadInput, ConflictError) as exc:
            errors["reason"] = i18n.error_text(exc)
    return render_edit(
        request, state, csrf, state["values"], errors, 400, reason=reason, retire_places=places
    )
