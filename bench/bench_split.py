"""Split benchmark: how faithfully `rcm declaration add` reads a declaration, per style.

    .venv/bin/python bench/bench_split.py [--json bench/results/split.json]

Two test sets, scored as split precision (statements read that are the declaration's) and recall
(the declaration's statements that were read), per style:

- the compilation written back: every meeting of the shipped compilation as the declaration text
  it came from (its preamble with a report on the meeting: where it was held, who chaired and
  attended), in the forms the RCM uses (a chapeau and numbered paragraphs hard-wrapped; lettered
  items one per line; bullets under a sentence chapeau; the whole text on one line, as when line
  breaks are lost in copying; a Word document with automatic list numbering). The reader must give
  back the compilation's statements word for word.
- the declarations written for the tests (tests/data/declarations/own/, Spanish and English in
  parallel pairs, styles named in expected.json): a statement counts as read when the reader's
  statement opens with the expected opening and ends where the next one begins.

Also times splitting and suggesting for a 30-paragraph declaration.
"""

from __future__ import annotations

import argparse
import io
import json
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rcm.model import Compendium, Statement
from rcm.parse import read_compilation, split_declaration
from rcm.parse.declaration import declaration_from_bytes
from rcm.parse.text import collapse

ROOT = Path(__file__).resolve().parents[1]
OWN = ROOT / "tests" / "data" / "declarations" / "own"

TITLE = "DECLARATION OF THE {label} MEETING OF THE REGIONAL CONFERENCE ON MIGRATION"
PLACE = "{year}"
INTRO = (
    "The Vice-Ministers and Heads of Delegation of the member countries of the Regional "
    "Conference on Migration (RCM), meeting on the occasion of the {label} meeting in {year};"
)
# A report on the meeting itself, between the introduction and the preamble: context, which must
# neither end the preamble nor become a statement.
REPORT = (
    "The meeting was held in {year}, chaired by the Pro Tempore Presidency and attended by the "
    "delegations of the member countries and observer organizations."
)
PREAMBLE = (
    "Recognizing that migration is a complex phenomenon that calls for a comprehensive approach "
    "based on shared responsibility;"
)
CLOSING = (
    "The Vice-Ministers thanked the Government and people of the host country for their warm "
    "hospitality and the excellent organization of the meeting."
)
ADOPTED = "Adopted on the {year} meeting."


def _head(c: Compendium, code: str) -> list[str]:
    m = c.meeting(code)
    values = {"label": m.label.removesuffix(" RCM"), "year": m.year}
    return [
        TITLE.format(**values),
        PLACE.format(**values),
        "",
        INTRO.format(**values),
        "",
        REPORT.format(**values),
        "",
        PREAMBLE,
        "",
    ]


def _tail(c: Compendium, code: str) -> list[str]:
    return ["", CLOSING, "", ADOPTED.format(year=c.meeting(code).year)]


def _wrap(text: str, first: str, rest: str = "   ") -> list[str]:
    return textwrap.wrap(text, 78, initial_indent=first, subsequent_indent=rest)


def numbered(c: Compendium, code: str, statements: Sequence[Statement]) -> str:
    """HEREBY DECLARE: then "1." paragraphs hard-wrapped at 78 columns, lists as "n. Heading:"
    over "a)" items."""
    lines = [*_head(c, code), "HEREBY DECLARE:", ""]
    for n, s in enumerate(statements, 1):
        if s.items:
            lines += [f"{n}. {s.heading}:"]
            for k, item in enumerate(s.items):
                lines += _wrap(item, f"   {chr(97 + k)}) ", "      ")
        else:
            lines += _wrap(s.text, f"{n}. ")
        lines.append("")
    return "\n".join([*lines, *_tail(c, code)])


def lettered(c: Compendium, code: str, statements: Sequence[Statement]) -> str:
    """AGREE: then "(a)" paragraphs one per line (no blank lines), lists as a heading line over
    indented dashes."""
    lines = [*_head(c, code), "AGREE:"]
    letter = 0
    for s in statements:
        if s.items:
            lines += ["", s.heading or "", *(f"    - {item}" for item in s.items), ""]
            continue
        lines.append(f"({_letters(letter)}) {s.text}")
        letter += 1
    return "\n".join([*lines, *_tail(c, code)])


def _letters(n: int) -> str:
    return chr(97 + n) if n < 26 else chr(97 + n // 26 - 1) + chr(97 + n % 26)


def bulleted(c: Compendium, code: str, statements: Sequence[Statement]) -> str:
    """A sentence chapeau ("The Vice-Ministers agreed on the following:") over "•" paragraphs,
    lists as a heading over dashes."""
    lines = [*_head(c, code), "The Vice-Ministers agreed on the following:", ""]
    for s in statements:
        if s.items:
            lines += [s.heading or "", *(f"  - {item}" for item in s.items), ""]
        else:
            lines += [f"• {s.text}", ""]
    return "\n".join([*lines, *_tail(c, code)])


def inline(c: Compendium, code: str, statements: Sequence[Statement]) -> str:
    """The whole declaration on one line, as when line breaks are lost in copying: "… HEREBY
    DECLARE: 1. … 2. …", a list's items as "a) … b) …" inside its paragraph."""
    parts = [" ".join(x for x in _head(c, code)[3:] if x), "HEREBY DECLARE:"]
    for n, s in enumerate(statements, 1):
        if s.items:
            items = " ".join(f"{chr(97 + k)}) {item}" for k, item in enumerate(s.items))
            parts.append(f"{n}. {s.heading}: {items}")
        else:
            parts.append(f"{n}. {s.text}")
    title = _head(c, code)[0]
    return f"{title}\n\n" + " ".join(parts) + "\n" + "\n".join(_tail(c, code))


def word(c: Compendium, code: str, statements: Sequence[Statement]) -> bytes:
    """A Word document whose operative paragraphs are numbered by Word itself (numPr: no number
    typed in the text), list items on the list's second level (a), b))."""
    import docx
    from docx.oxml import parse_xml

    d = docx.Document()
    for line in _head(c, code):
        if line:
            d.add_paragraph(line)
    d.add_paragraph("HEREBY DECLARE:")
    numbering = d.part.numbering_part.element
    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    numbering.append(
        parse_xml(
            f'<w:abstractNum {ns} w:abstractNumId="90">'
            '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
            '<w:lvlText w:val="%1."/></w:lvl>'
            '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/>'
            '<w:lvlText w:val="%2)"/></w:lvl></w:abstractNum>'
        )
    )
    numbering.append(parse_xml(f'<w:num {ns} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))

    def numbered_paragraph(text: str, level: int) -> None:
        p = d.add_paragraph(text, style="List Paragraph")
        p._p.get_or_add_pPr().append(
            parse_xml(f'<w:numPr {ns}><w:ilvl w:val="{level}"/><w:numId w:val="90"/></w:numPr>')
        )

    for s in statements:
        if s.items:
            numbered_paragraph(f"{s.heading}:", 0)
            for item in s.items:
                numbered_paragraph(item, 1)
        else:
            numbered_paragraph(s.text, 0)
    for line in _tail(c, code):
        if line:
            d.add_paragraph(line)
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


STYLES: dict[str, Callable[[Compendium, str, Sequence[Statement]], str | bytes]] = {
    "numbered_wrapped": numbered,
    "lettered_one_per_line": lettered,
    "bullets_sentence_chapeau": bulleted,
    "line_breaks_lost": inline,
    "word_automatic_numbering": word,
}


def _score(expected: Sequence[str], read: Sequence[str]) -> dict[str, int]:
    remaining = list(expected)
    hits = 0
    for text in read:
        if text in remaining:
            remaining.remove(text)
            hits += 1
    return {"expected": len(expected), "read": len(read), "correct": hits}


def _figures(counts: dict[str, int]) -> dict[str, Any]:
    return {
        **counts,
        "precision": round(counts["correct"] / counts["read"], 3) if counts["read"] else 0.0,
        "recall": round(counts["correct"] / counts["expected"], 3) if counts["expected"] else 0.0,
    }


def compilation_split(c: Compendium) -> dict[str, Any]:
    """Per style: precision and recall over every meeting, and the meetings read exactly."""
    report: dict[str, Any] = {}
    for style, write in STYLES.items():
        total = {"expected": 0, "read": 0, "correct": 0}
        exact, failures = 0, []
        for m in c.meetings:
            statements = [s for s in c.statements if s.meeting == m.code]
            if not statements:
                continue
            written = write(c, m.code, statements)
            name = f"{m.code}.docx" if isinstance(written, bytes) else f"{m.code}.txt"
            raw = written if isinstance(written, bytes) else written.encode("utf-8")
            try:
                read = [collapse(s.text) for s in declaration_from_bytes(raw, name).statements]
            except Exception as exc:  # a refusal scores as nothing read
                read = []
                failures.append(f"{m.code}: {exc}")
            counts = _score([collapse(s.text) for s in statements], read)
            exact += counts["correct"] == counts["expected"] == counts["read"]
            if counts["correct"] != counts["expected"] or counts["read"] != counts["expected"]:
                failures.append(f"{m.code}: {counts}")
            for k in total:
                total[k] += counts[k]
        report[style] = {**_figures(total), "meetings_exact": exact, "failures": failures[:10]}
    return report


def own_split() -> dict[str, Any]:
    """Per style, over the declarations written for the tests."""
    expected = json.loads((OWN / "expected.json").read_text(encoding="utf-8"))
    by_style: dict[str, dict[str, int]] = {}
    failures: list[str] = []
    for name, entry in expected["declarations"].items():
        read = split_declaration((OWN / name).read_text(encoding="utf-8"), name)
        openings = [fold_opening(o) for o in entry["statements"]]
        got = [fold_opening(s.text) for s in read.statements]
        counts = {"expected": len(openings), "read": len(got), "correct": 0}
        remaining = list(openings)
        for text in got:
            match = next((o for o in remaining if text.startswith(o)), None)
            if match is not None:
                remaining.remove(match)
                counts["correct"] += 1
        if remaining or len(got) != len(openings):
            failures.append(f"{name}: missed {remaining}, read {len(got)}")
        for style in entry["styles"]:
            bucket = by_style.setdefault(style, {"expected": 0, "read": 0, "correct": 0})
            for k in bucket:
                bucket[k] += counts[k]
    return {
        "styles": {style: _figures(v) for style, v in sorted(by_style.items())},
        "failures": failures,
    }


def fold_opening(text: str) -> str:
    return collapse(text).lower()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    c = read_compilation()
    report = {"compilation": compilation_split(c), "own": own_split()}
    print(json.dumps(report, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(
            json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )


if __name__ == "__main__":
    main()
