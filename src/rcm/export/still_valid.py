"""The "Still valid?" column of an exported compilation, filled from a consultation round: the
consensus status and each country's answer, or one country's answers for its filled-in copy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rcm import consult
from rcm.errors import RcmError
from rcm.i18n import words

# The questionnaire's words for each answer, as the ministries read them.
WORDS = {value.value: label for label, value in consult.ANSWERS.items()}
WORDS_ES = {value.value: label for label, value in consult.ANSWERS_ES.items()}


@dataclass(frozen=True)
class StillValid:
    lines: dict[str, list[str]]  # statement id -> the cell's lines
    scope: frozenset[str]  # the round's statements
    heading: str  # for the title page


def still_valid(status: dict[str, Any], country: str | None = None, lang: str = "en") -> StillValid:
    """The column's lines from a round's status (``rcm.consult.round_status``): the consensus
    status and each country's answer, or ``country``'s answers alone; in ``lang``."""
    w = words(lang)
    answer_words = WORDS_ES if w.spanish else WORDS
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
            line = f"{code}: {answer_words.get(value, value)}"
            if code in s["proposed_wording"]:
                line += f" — {s['proposed_wording'][code]}"
            elif code in s["reasons"]:
                line += f" — {s['reasons'][code]}"
            earlier = s.get("earlier_wording", {}).get(code)
            if earlier is not None:
                line += w(
                    " (to version {earlier} of the wording; now version {version})",
                    earlier=earlier,
                    version=s["version"],
                )
            cell.append(line)
        if country is None:
            waiting = [c for c in members if answers.get(c) is None]
            cell.insert(0, w("Status: {status}", status=w.status(s["status"])))
            if waiting:
                cell.append(w("Not yet answered: {countries}", countries=", ".join(waiting)))
        elif not cell:
            cell.append(w("{country}: not yet answered", country=country))
        lines[s["id"]] = cell
    who = (
        w("answers of {country}", country=country)
        if country
        else w("consensus status and each country's answers")
    )
    heading = w(
        "“{still_valid}” filled from consultation round {id}, “{title}” ({state}): {who}.",
        still_valid=w("Still valid?"),
        id=rnd["id"],
        title=rnd["title"],
        state=w.status(rnd["state"]),
        who=who,
    )
    return StillValid(lines, frozenset(lines), heading)
