"""Source consistency: where the compilation contradicts itself. The document is never corrected;
each finding names the statement ids and source lines so that a person can look."""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import combinations

from rcm.model import Compendium, Placement
from rcm.parse.text import normal_form

__all__ = ["Finding", "check_compendium"]


@dataclass(frozen=True)
class Finding:
    kind: str
    message: str
    statement_ids: tuple[str, ...] = ()
    lines: tuple[int, ...] = ()
    theme: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "message": self.message,
            "statement_ids": list(self.statement_ids),
            "lines": list(self.lines),
            "theme": self.theme,
        }


KINDS = {
    "note-names-unplaced-theme": "a note names a theme the statement is not filed under",
    "placed-without-note": "a statement is filed under a theme that a copy's note does not name",
    "notes-disagree": "copies of one statement carry notes that name different themes",
    "meeting-order": "a row is out of meeting order within its table",
    "possible-copy": "two statements of one meeting are nearly the same text but were kept apart",
    "repeated-in-section": "a statement appears twice in the same sub-theme table",
    "source-notice": "something in the document that is not a statement (kept and reported)",
}


def _where(c: Compendium, p: Placement) -> str:
    sub = c.subtheme(p.theme, p.subtheme)
    return f"TS{p.theme} \u00ab{sub.title}\u00bb row {p.position} (line {p.line})"


def check_compendium(c: Compendium, similarity: float = 0.9) -> list[Finding]:
    findings: list[Finding] = []
    order = {m.code: m.number for m in c.meetings}
    by_statement: dict[str, list[Placement]] = {}
    for p in c.placements:
        by_statement.setdefault(p.statement_id, []).append(p)

    for sid, copies in by_statement.items():
        placed = {p.theme for p in copies}
        for p in copies:
            named = set(p.also_relevant)
            note = f"note {p.note!r}" if p.note else "no note"
            for t in sorted(named - placed):
                findings.append(
                    Finding(
                        "note-names-unplaced-theme",
                        f"{sid}: the copy in {_where(c, p)} has {note}, naming TS{t}, "
                        "but the statement "
                        f"is not filed under TS{t}",
                        (sid,),
                        (p.line,),
                        t,
                    )
                )
            for t in sorted(placed - named - {p.theme}):
                findings.append(
                    Finding(
                        "placed-without-note",
                        f"{sid}: filed under TS{t}, but the copy in {_where(c, p)} has {note}, "
                        f"which does not name TS{t}",
                        (sid,),
                        (p.line,),
                        t,
                    )
                )
        scopes = {frozenset(set(p.also_relevant) | {p.theme}) for p in copies}
        if len(copies) > 1 and len(scopes) > 1:
            described = "; ".join(
                f"line {p.line} (TS{p.theme}): {p.note or 'no note'}" for p in copies
            )
            findings.append(
                Finding(
                    "notes-disagree",
                    f"{sid}: its {len(copies)} copies disagree on where it belongs: {described}",
                    (sid,),
                    tuple(p.line for p in copies),
                )
            )
        seen: dict[tuple[int, int], Placement] = {}
        for p in copies:
            key = (p.theme, p.subtheme)
            if key in seen:
                findings.append(
                    Finding(
                        "repeated-in-section",
                        f"{sid}: appears twice in TS{p.theme} \u00ab{c.subtheme(*key).title}\u00bb "
                        f"(rows {seen[key].position} and {p.position})",
                        (sid,),
                        (seen[key].line, p.line),
                        p.theme,
                    )
                )
            seen[key] = p

    meeting_of = {s.id: s.meeting for s in c.statements}
    previous: Placement | None = None
    for p in c.placements:  # sorted by theme, sub-theme, position
        if previous and (previous.theme, previous.subtheme) == (p.theme, p.subtheme):
            before, here = meeting_of[previous.statement_id], meeting_of[p.statement_id]
            if order[here] < order[before]:
                findings.append(
                    Finding(
                        "meeting-order",
                        f"{p.statement_id}: {here} RCM in {_where(c, p)} "
                        f"follows a {before} RCM row",
                        (previous.statement_id, p.statement_id),
                        (previous.line, p.line),
                        p.theme,
                    )
                )
        previous = p

    by_meeting: dict[str, list[tuple[str, str]]] = {}
    for s in c.statements:
        by_meeting.setdefault(s.meeting, []).append((s.id, normal_form(s.text)))
    for statements in by_meeting.values():
        for (a, ta), (b, tb) in combinations(statements, 2):
            matcher = SequenceMatcher(None, ta, tb, autojunk=False)
            if matcher.real_quick_ratio() < similarity or matcher.quick_ratio() < similarity:
                continue
            ratio = matcher.ratio()
            if ratio >= similarity:
                findings.append(
                    Finding(
                        "possible-copy",
                        f"{a} and {b} are {ratio:.0%} alike but differ in wording: "
                        "kept as two statements",
                        (a, b),
                    )
                )

    for n in c.notices:
        findings.append(
            Finding(
                "source-notice",
                f"{n.message}: {n.text!r}" if n.text else n.message,
                (),
                (n.line,) if n.line else (),
            )
        )
    return findings
