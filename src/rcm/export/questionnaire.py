"""A country's questionnaire as an .xlsx workbook: one sheet per theme, with a drop-down for
"Still valid?" and a hidden, protected signature of round and country, with the version of each
statement's wording it shows (signed too). What it holds comes from
``rcm.consult.questionnaire``; it is read back by ``rcm.consult.import_questionnaire``
(streaming, bounded: ``rcm.parse.xlsx``)."""

from __future__ import annotations

import io
import secrets

from rcm import consult
from rcm.consult import (
    SIGNATURE_SHEET,
    WORDINGS_ROW,
    Questionnaire,
    answer_words,
    questionnaire_header,
)
from rcm.export.cells import append_row
from rcm.i18n import words
from rcm.store import Store

__all__ = ["questionnaire_xlsx", "write_questionnaire"]

WIDTHS = (14, 12, 80, 18, 50, 40)  # columns A to F
# Where the Spanish drop-down's words are listed (on the signature sheet, column H, rows 1 to 4):
# "Sí, con cambios" holds a comma, which an inline list would split.
LIST_COLUMN = "H"


def write_questionnaire(
    store: Store, round_id: int, country: str, lang: str | None = None
) -> bytes:
    """A country's questionnaire for a round, as .xlsx bytes: in ``lang``, or by default in the
    language of the country's focal points (``rcm.consult.questionnaire``)."""
    return questionnaire_xlsx(consult.questionnaire(store, round_id, country, lang))


def questionnaire_xlsx(q: Questionnaire) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    w = words(q.lang)
    choices = list(answer_words(q.lang))
    wb = Workbook()
    wb.remove(wb.active)
    if w.spanish:
        wb.properties.language = "es"
    for code, rows in q.sheets:
        ws = wb.create_sheet(code)
        append_row(ws, questionnaire_header(q.lang))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        listed = (
            f"{SIGNATURE_SHEET}!${LIST_COLUMN}$1:${LIST_COLUMN}${len(choices)}"
            if w.spanish
            else '"' + ",".join(choices) + '"'
        )
        check = DataValidation(
            type="list",
            formula1=listed,
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=w("Still valid?"),
            error=w("Choose Yes, Yes, with changes, No or Abstain"),
        )
        ws.add_data_validation(check)
        for r in rows:
            # Every text as a string cell: a comment "=HYPERLINK(…)" must not become a formula.
            append_row(
                ws, [r.statement_id, r.meeting, r.text, r.answer, r.proposed_wording, r.comment]
            )
            check.add(f"D{ws.max_row}")
        for col, width in zip("ABCDEF", WIDTHS, strict=True):
            ws.column_dimensions[col].width = width
        for row in ws.iter_rows(min_row=2, min_col=3, max_col=3):
            row[0].alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = "A2"
    sig = wb.create_sheet(SIGNATURE_SHEET)
    append_row(sig, ["round", "country", "signature", "wordings"])
    append_row(sig, [q.round_id, q.country, q.signature, q.wordings_signature])
    # The version of each statement's wording shown, from row WORDINGS_ROW + 1 (rcm.consult).
    while sig.max_row < WORDINGS_ROW - 1:
        append_row(sig, [None])
    append_row(sig, ["statement", "wording version"])
    for sid, version in sorted(q.versions.items()):
        append_row(sig, [sid, str(version)])
    if w.spanish:
        for i, choice in enumerate(choices, 1):
            sig[f"{LIST_COLUMN}{i}"] = choice
    sig.sheet_state = "veryHidden"
    sig.protection.sheet = True
    sig.protection.password = secrets.token_hex(8)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
