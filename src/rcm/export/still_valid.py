"""The "Still valid?" column of an exported compilation, filled from a consultation round: the
consensus status and each country's answer, or one country's answers for its filled-in copy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rcm import consult
from rcm.errors import RcmError

# The questionnaire's words for each answer, as the ministries read them.
WORDS = {value.value: label for label, value in consult.ANSWERS.items()}


@dataclass(frozen=True)
class StillValid:
    lines: dict[str, list[str]]  # statement id -> the cell's lines
    scope: frozenset[str]  # the round's statements
    heading: str  # for the title page


def still_valid(status: dict[str, Any], country: str | None = None) -> StillValid:
    """The column's lines from a round's status (``rcm.consult.round_status``): the consensus
    status and each country's answer, or ``country``'s answers alone."""
    rnd = status["round"]
    members = consult.member_countries()
    if country is not None:
        country = country.strip().upper()
        if country not in members:
            raise RcmError(f"{country!r} is not a Member Country: {', '.join(members)}")
    lines: dict[str, list[str]] = {}
    for s in status["statements"]:
        answers = s["answers"]
        cell: list[str] = []
        for code in [country] if country else members:
            value = answers.get(code)
            if value is None:
                continue
            line = f"{code}: {WORDS.get(value, value)}"
            if code in s["proposed_wording"]:
                line += f" — {s['proposed_wording'][code]}"
            elif code in s["reasons"]:
                line += f" — {s['reasons'][code]}"
            earlier = s.get("earlier_wording", {}).get(code)
            if earlier is not None:
                line += f" (to version {earlier} of the wording; now version {s['version']})"
            cell.append(line)
        if country is None:
            waiting = [c for c in members if answers.get(c) is None]
            cell.insert(0, f"Status: {s['status']}")
            if waiting:
                cell.append(f"Not yet answered: {', '.join(waiting)}")
        elif not cell:
            cell.append(f"{country}: not yet answered")
        lines[s["id"]] = cell
    who = f"answers of {country}" if country else "consensus status and each country's answers"
    heading = (
        f"“Still valid?” filled from consultation round {rnd['id']}, “{rnd['title']}” "
        f"({rnd['state']}): {who}."
    )
    return StillValid(lines, frozenset(lines), heading)
