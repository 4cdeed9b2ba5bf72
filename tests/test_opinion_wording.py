"""Opinions keep the wording they answered (issue 15, item 6), on SQLite and PostgreSQL: every
answer records the version of the statement's wording its writer saw; after a rewording, the
round's status, dashboard, regional position (data, page, Word document) and the statement's
history say which answers are to an earlier wording; the web form and the questionnaire carry the
version they showed, so an answer to an old wording is never recorded against the new one.

Statements are reworded with ``rcm.edit.reword``, as the Word ingest and the web editor do."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import docx
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select, update

from rcm import consult, edit
from rcm.cli import cli
from rcm.errors import DocumentError, RcmError
from rcm.export.position import position_docx
from rcm.export.questionnaire import write_questionnaire
from rcm.search import theme_filter
from rcm.store import schema
from webclient import add_people, client_for

SID, OTHER = "XII-8133", "XII-8033"  # both under TS5, plain paragraphs
NEW = "Emphasized the commitment to prevent trafficking in persons, in a new wording."
COUNTRIES = consult.member_countries()
TODAY = datetime.now(UTC).date().isoformat()


def reword(store, statement_id: str, text: str, actor: str = "test") -> int:
    """Give ``statement_id`` the wording ``text`` (rcm.edit.reword); returns the new version."""
    change = edit.reword(
        store, statement_id, text, expected_version=None, actor=actor, origin="test"
    )
    assert change is not None
    return store.statement(statement_id)[0].version


@pytest.fixture
def ready(store, compendium):
    store.ingest(compendium)
    return store


def entry(status, sid):
    return next(s for s in status["statements"] if s["id"] == sid)


def test_answers_record_the_wording_and_the_status_flags_a_rewording(ready):
    rnd = consult.open_round(ready, "TS5", filters=[theme_filter([5])])
    first = consult.set_opinion(ready, rnd.id, "CRI", SID, "valid", author="focal:CRI")
    consult.set_opinion(ready, rnd.id, "MEX", SID, "valid", author="focal:MEX")
    assert first.statement_version == 1
    status = consult.round_status(ready, rnd.id)
    assert entry(status, SID)["earlier_wording"] == {}
    assert status["earlier_wording"] == {"answers": 0, "statements": 0}

    assert reword(ready, SID, NEW) == 2
    after = consult.set_opinion(ready, rnd.id, "USA", SID, "valid", author="focal:USA")
    assert after.statement_version == 2  # the CLI and the API answer the current wording
    status = consult.round_status(ready, rnd.id)
    s = entry(status, SID)
    assert s["version"] == 2 and s["wording_changed_on"] == TODAY
    assert s["answered_versions"] == {"CRI": 1, "MEX": 1, "USA": 2}
    assert s["earlier_wording"] == {"CRI": 1, "MEX": 1}
    assert status["earlier_wording"] == {"answers": 2, "statements": 1}
    assert status["countries"]["CRI"]["earlier_wording"] == 1
    assert status["countries"]["USA"]["earlier_wording"] == 0
    assert entry(status, OTHER)["version"] == 1 and entry(status, OTHER)["earlier_wording"] == {}

    # Recorded with the answer, in the history and the audit trail.
    with ready.engine.connect() as conn:
        rows = conn.execute(
            select(schema.opinion_history.c.country, schema.opinion_history.c.statement_version)
            .where(schema.opinion_history.c.statement_id == SID)
            .order_by(schema.opinion_history.c.at)
        ).all()
        audit = conn.scalars(
            select(schema.audit_events.c.after)
            .where(schema.audit_events.c.action == "opinion.set")
            .order_by(schema.audit_events.c.id)
        ).all()
    assert [tuple(r) for r in rows] == [("CRI", 1), ("MEX", 1), ("USA", 2)]
    assert [json.loads(a)["statement_version"] for a in audit] == [1, 1, 2]
    history = consult.history(ready, SID)
    assert [(h["answered_version"], h["current_version"]) for h in history] == [
        (1, 2),
        (1, 2),
        (2, 2),
    ]

    # A writer who saw the earlier wording says so; a version the statement never had is refused.
    seen = consult.set_opinion(
        ready, rnd.id, "GTM", SID, "abstain", author="focal:GTM", statement_version=1
    )
    assert seen.statement_version == 1
    for wrong in (0, 3):
        with pytest.raises(RcmError, match=f"no wording version {wrong}"):
            consult.set_opinion(
                ready, rnd.id, "HND", SID, "valid", author="x", statement_version=wrong
            )
    # Answering again for the current wording clears the flag.
    consult.set_opinion(ready, rnd.id, "CRI", SID, "valid", author="focal:CRI")
    s = entry(consult.round_status(ready, rnd.id), SID)
    assert s["earlier_wording"] == {"GTM": 1, "MEX": 1}


def test_answers_to_an_earlier_wording_still_count_and_are_flagged(ready):
    rnd = consult.open_round(ready, "TS5", filters=[theme_filter([5])])
    for c in COUNTRIES:
        consult.set_opinion(ready, rnd.id, c, OTHER, "valid", author=c)
    consult.set_opinion(
        ready, rnd.id, "CRI", SID, "no longer valid", reason="Superseded.", author="CRI"
    )
    reword(ready, OTHER, "Victims of trafficking should never be prosecuted.")
    reword(ready, SID, NEW)
    position = consult.regional_position(ready, rnd.id)
    reaffirmed = [
        e for section in position["themes"] for g in section["reaffirmed"].values() for e in g
    ]
    e = next(e for e in reaffirmed if e["id"] == OTHER)  # still reaffirmed: the answers count
    assert e["version"] == 2 and e["wording_changed_on"] == TODAY
    assert e["earlier_wording"] == {c: 1 for c in COUNTRIES}
    contested = next(e for e in position["contested"] if e["id"] == SID)
    assert contested["earlier_wording"] == {"CRI": 1}
    assert position["earlier_wording"] == {"answers": len(COUNTRIES) + 1, "statements": 2}

    # The Word (and so the PDF) position document says so in the statement's row.
    d = docx.Document(io.BytesIO(position_docx(consult.position_document(ready, rnd.id))))
    rows = {r.cells[1].paragraphs[-1].text: r.cells[2].text for t in d.tables for r in t.rows[1:]}
    changed = f"The wording changed on {TODAY} (now version 2): Costa Rica (CRI) answered version 1"
    assert changed + "." in rows[SID]
    assert "Mexico (MEX) answered version 1" in rows[OTHER]
    text = "\n".join(p.text for p in d.paragraphs)
    assert f"Answers to an earlier wording: {len(COUNTRIES) + 1} answers are" in text


def test_answers_from_before_versions_were_kept_are_inferred(ready):
    """An answer written before migration 0008 has no version: it answered the wording stored at
    the time (version 1 when no version was stored yet)."""
    rnd = consult.open_round(ready, "TS5", filters=[theme_filter([5])])
    consult.set_opinion(ready, rnd.id, "CRI", SID, "valid", author="CRI")
    with ready.transaction() as conn:
        for table in (schema.opinions, schema.opinion_history):
            conn.execute(update(table).values(statement_version=None))
    reword(ready, SID, NEW)
    assert entry(consult.round_status(ready, rnd.id), SID)["earlier_wording"] == {"CRI": 1}
    assert consult.history(ready, SID)[0]["statement_version"] is None
    assert consult.history(ready, SID)[0]["answered_version"] == 1


# --- the questionnaire ---------------------------------------------------------------------------


def fill(data: bytes, answers: dict[str, str], texts: dict[str, str] | None = None) -> bytes:
    wb = load_workbook(io.BytesIO(data))
    for ws in wb.worksheets:
        if ws.title == consult.SIGNATURE_SHEET:
            continue
        for row in ws.iter_rows(min_row=2):
            if row[0].value in answers:
                row[3].value = answers[row[0].value]
            if texts and row[0].value in texts:
                row[2].value = texts[row[0].value]
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def as_before_versions(data: bytes) -> bytes:
    """A questionnaire as written before wordings were versioned: round, country, signature."""
    wb = load_workbook(io.BytesIO(data))
    sig = wb[consult.SIGNATURE_SHEET]
    sig.delete_cols(4)
    sig.delete_rows(3, sig.max_row)
    header = next(sig.iter_rows(values_only=True))
    assert list(header) == ["round", "country", "signature"]
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def recorded(store, round_id, country, sid):
    return next(
        o.statement_version
        for o in consult.opinions(store, round_id)
        if (o.country, o.statement_id) == (country, sid)
    )


def test_a_questionnaire_from_before_a_rewording_records_the_wording_it_showed(ready):
    rnd = consult.open_round(ready, "TS5", filters=[theme_filter([5])])
    data = write_questionnaire(ready, rnd.id, "CRI")
    sig = load_workbook(io.BytesIO(data))[consult.SIGNATURE_SHEET]
    listed = {r[0]: r[1] for r in sig.iter_rows(min_row=consult.WORDINGS_ROW + 1, values_only=True)}
    assert len(listed) == 31 and listed[SID] == "1"
    reword(ready, SID, NEW)
    result = consult.import_questionnaire(
        ready, rnd.id, fill(data, {SID: "Yes", OTHER: "Yes"}), "cri.xlsx", "focal:CRI"
    )
    assert result.written == 2 and result.earlier_wording == ((SID, 1, 2),)
    assert recorded(ready, rnd.id, "CRI", SID) == 1 and recorded(ready, rnd.id, "CRI", OTHER) == 1
    assert entry(consult.round_status(ready, rnd.id), SID)["earlier_wording"] == {"CRI": 1}

    # A fresh questionnaire shows the new wording; sent back untouched it writes nothing (the
    # answer stays flagged), changed it is recorded against the new wording.
    fresh = write_questionnaire(ready, rnd.id, "CRI")
    again = consult.import_questionnaire(ready, rnd.id, fresh, "cri.xlsx", "focal:CRI")
    assert (again.written, again.earlier_wording) == (0, ())
    changed = consult.import_questionnaire(
        ready, rnd.id, fill(fresh, {SID: "Abstain"}), "cri.xlsx", "focal:CRI"
    )
    assert (changed.written, changed.earlier_wording) == (1, ())
    assert recorded(ready, rnd.id, "CRI", SID) == 2


def test_the_list_of_wording_versions_is_signed(ready):
    rnd = consult.open_round(ready, "TS5", filters=[theme_filter([5])])
    data = write_questionnaire(ready, rnd.id, "MEX")
    reword(ready, SID, NEW)
    wb = load_workbook(io.BytesIO(fill(data, {SID: "Yes"})))
    sig = wb[consult.SIGNATURE_SHEET]
    row = next(r for r in sig.iter_rows(min_row=consult.WORDINGS_ROW + 1) if r[0].value == SID)
    row[1].value = "2"  # claim the new wording was shown
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(DocumentError, match="list of wording versions was altered"):
        consult.import_questionnaire(ready, rnd.id, out.getvalue(), "mex.xlsx", "focal:MEX")
    assert consult.opinions(ready, rnd.id) == []


def test_a_questionnaire_written_before_versions_still_imports(ready):
    """Without the list: the version whose wording the Statement column shows; when that text
    was edited, the version current when the round opened."""
    rnd = consult.open_round(ready, "TS5", filters=[theme_filter([5])])
    old = as_before_versions(write_questionnaire(ready, rnd.id, "PAN"))
    reword(ready, SID, NEW)
    result = consult.import_questionnaire(
        ready, rnd.id, fill(old, {SID: "Yes"}), "pan.xlsx", "focal:PAN"
    )
    assert result.earlier_wording == ((SID, 1, 2),)
    edited = fill(old, {SID: "Abstain"}, {SID: "my own notes"})
    consult.import_questionnaire(ready, rnd.id, edited, "pan.xlsx", "focal:PAN")
    assert recorded(ready, rnd.id, "PAN", SID) == 1  # current when the round opened
    later = consult.open_round(ready, "TS5 again", filters=[theme_filter([5])])
    old = as_before_versions(write_questionnaire(ready, later.id, "PAN"))
    consult.import_questionnaire(
        ready, later.id, fill(old, {SID: "Yes"}, {SID: "edited"}), "pan.xlsx", "focal:PAN"
    )
    assert recorded(ready, later.id, "PAN", SID) == 2
    shows_new = fill(as_before_versions(write_questionnaire(ready, rnd.id, "SLV")), {SID: "Yes"})
    consult.import_questionnaire(ready, rnd.id, shows_new, "slv.xlsx", "focal:SLV")
    assert recorded(ready, rnd.id, "SLV", SID) == 2


def test_the_cli_says_when_the_wording_changed(db_url, tmp_path):
    runner = CliRunner()

    def run(*args):
        result = runner.invoke(cli, ["--db", db_url, *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    run("ingest")
    round_id = run("round", "open", "TS5", "--theme", "TS5").strip().splitlines()[-1]
    path = tmp_path / "cri.xlsx"
    run("round", "questionnaire", round_id, "--country", "CRI", "-o", str(path))
    store = consult.Store(db_url)
    try:
        reword(store, SID, NEW)
    finally:
        store.close()
    path.write_bytes(fill(path.read_bytes(), {SID: "Yes"}))
    imported = run("round", "import", round_id, str(path))
    assert f"{SID}: answered version 1; the wording is now version 2" in imported
    said = run("opinion", "set", round_id, "MEX", SID, "valid", "--statement-version", "1")
    assert "to version 1 of the wording" in said and f"now version 2): {NEW}" in said
    assert "to version 2 of the wording" in run("opinion", "set", round_id, "USA", SID, "valid")
    status = run("round", "status", round_id)
    assert "2 answers are to an earlier wording" in status
    assert "CRI answered version 1; MEX answered version 1." in status
    data = json.loads(run("round", "status", round_id, "--json"))
    assert entry(data, SID)["answered_versions"] == {"CRI": 1, "MEX": 1, "USA": 2}
    position = run("round", "position", round_id)
    assert f"{SID}: The wording changed on {TODAY} (now version 2)" in position
    args = ["opinion", "set", round_id, "GTM", SID, "valid", "--statement-version", "9"]
    refused = runner.invoke(cli, ["--db", db_url, *args])
    assert refused.exit_code != 0 and "no wording version 9" in refused.output


# --- the web -------------------------------------------------------------------------------------


@pytest.fixture
def site(ready):
    passwords = add_people(ready, "sec", "cri", "mex", "obs")
    rnd = consult.open_round(ready, "TS5", filters=[theme_filter([5])], deadline="2030-01-01")
    return ready, passwords, rnd


def shown_form(c, rnd) -> dict[str, str]:
    soup = BeautifulSoup(c.get(f"/rounds/{rnd.id}/answers?show=all").text, "html.parser")
    return {i["name"]: i.get("value", "") for i in soup.select("form.answers input[type=hidden]")}


def test_a_form_shown_before_a_rewording_saves_against_the_wording_it_showed(site):
    store, passwords, rnd = site
    c = client_for(store, passwords, "cri")
    form = shown_form(c, rnd)
    assert form[f"sv:{SID}"] == "1"
    reword(store, SID, NEW)
    typed = "Prevent trafficking, in the words Costa Rica proposes."
    r = c.post(
        f"/rounds/{rnd.id}/answers",
        data={**form, f"v:{SID}": "valid with changes", f"w:{SID}": typed},
    )
    assert r.status_code == 200 and "1 answer saved" in r.text
    (saved,) = consult.opinions(store, rnd.id)
    assert (saved.statement_version, saved.proposed_wording) == (1, typed)
    soup = BeautifulSoup(r.text, "html.parser")
    notice = soup.select_one("div.wording-changed").text
    assert "saved against the wording you saw (version 1)" in notice and NEW in notice
    assert soup.select_one(f"textarea[name='w:{SID}']").text == typed
    assert soup.select_one(f"input[name='sv:{SID}']")["value"] == "2"
    assert soup.select_one(f"input[name='confirm:{SID}']") is not None

    # Given again for the new wording: confirmed, recorded against version 2, no longer flagged.
    form = shown_form(c, rnd)
    r = c.post(
        f"/rounds/{rnd.id}/answers",
        data={**form, f"v:{SID}": "valid with changes", f"w:{SID}": typed, f"confirm:{SID}": "1"},
    )
    assert r.status_code == 200 and "1 answer saved" in r.text
    assert [o.statement_version for o in consult.opinions(store, rnd.id)] == [2]
    assert "wording-changed" not in r.text


def test_a_form_that_cannot_be_saved_keeps_what_was_typed(site):
    store, passwords, rnd = site
    c = client_for(store, passwords, "cri")
    form = shown_form(c, rnd)
    reword(store, SID, NEW)
    r = c.post(
        f"/rounds/{rnd.id}/answers",
        data={
            **form,
            f"v:{SID}": "no longer valid",
            f"c:{SID}": "Typed reason, kept.",
            f"v:{OTHER}": "valid with changes",  # without the wording: refused, nothing saved
        },
    )
    assert r.status_code == 400 and consult.opinions(store, rnd.id) == []
    soup = BeautifulSoup(r.text, "html.parser")
    assert soup.select_one(f"textarea[name='c:{SID}']").text == "Typed reason, kept."
    assert soup.select_one(f"select[name='v:{SID}'] option[selected]")["value"] == "no longer valid"
    notice = soup.select_one("div.wording-changed").text
    assert "Nothing was saved" in notice and NEW in notice


def test_dashboard_position_and_statement_page_show_the_change(site):
    store, passwords, rnd = site
    consult.set_opinion(store, rnd.id, "CRI", SID, "valid", author="cri")
    consult.set_opinion(store, rnd.id, "MEX", SID, "valid", author="mex")
    reword(store, SID, NEW)
    consult.set_opinion(store, rnd.id, "USA", SID, "valid", author="sec")
    sec = client_for(store, passwords, "sec")
    page = sec.get(f"/rounds/{rnd.id}").text
    soup = BeautifulSoup(page, "html.parser")
    assert "2 answers are to an earlier wording" in soup.select_one("p.wording-changed").text
    row = next(tr for tr in soup.select("table.status tbody tr") if SID in tr.text)
    assert f"The wording changed on {TODAY} (now version 2)" in row.text
    assert "CRI answered version 1; MEX answered version 1" in row.text
    assert len(row.select("sup.earlier")) == 2
    position = sec.get(f"/rounds/{rnd.id}/position").text
    assert "CRI answered version 1" in position and "2 answers are to an earlier" in position
    statement = BeautifulSoup(sec.get(f"/statements/{SID}").text, "html.parser")
    cells = [tr.select("td")[5].text for tr in statement.select("table.opinions tbody tr")]
    assert cells == ["version 1 (earlier; now version 2)"] * 2 + ["version 2"]
    api = sec.get(f"/api/statements/{SID}").json()["opinions"]
    assert [o["statement_version"] for o in api] == [1, 1, 2]
    spanish = sec.get(f"/rounds/{rnd.id}?lang=es").text
    assert "CRI respondió a la versión 1" in spanish
    # The focal point's own form flags the answer and offers to give it again.
    cri = client_for(store, passwords, "cri")
    answers = BeautifulSoup(cri.get(f"/rounds/{rnd.id}/answers?show=all").text, "html.parser")
    note = answers.select_one("form.answers p.wording-changed").text
    assert "Your answer was to version 1" in note


def test_the_still_valid_column_marks_answers_to_an_earlier_wording(ready):
    from rcm.export.still_valid import still_valid

    rnd = consult.open_round(ready, "TS5", filters=[theme_filter([5])])
    consult.set_opinion(ready, rnd.id, "CRI", SID, "valid", author="CRI")
    reword(ready, SID, NEW)
    consult.set_opinion(ready, rnd.id, "MEX", SID, "valid", author="MEX")
    lines = still_valid(consult.round_status(ready, rnd.id)).lines[SID]
    assert "CRI: Yes (to version 1 of the wording; now version 2)" in lines
    assert "MEX: Yes" in lines


def test_a_questionnaire_sent_on_the_web_after_a_rewording_says_so(site):
    store, passwords, rnd = site
    c = client_for(store, passwords, "cri")
    data = c.get(f"/rounds/{rnd.id}/questionnaire.xlsx").content
    reword(store, SID, NEW)
    files = {"file": ("cri.xlsx", fill(data, {SID: "Yes"}), "application/octet-stream")}
    token = shown_form(c, rnd)["csrf"]
    r = c.post(
        f"/rounds/{rnd.id}/questionnaire", data={"csrf": token, "country": "CRI"}, files=files
    )
    assert r.status_code == 200 and "1 answer saved" in r.text
    notice = BeautifulSoup(r.text, "html.parser").select_one("div.wording-changed").text
    assert "saved against the wording you saw (version 1)" in notice and NEW in notice
    assert recorded(store, rnd.id, "CRI", SID) == 1


def test_a_conflict_keeps_what_was_typed_and_shows_what_is_saved(site):
    store, passwords, rnd = site
    c = client_for(store, passwords, "cri")
    form = shown_form(c, rnd)
    consult.set_opinion(store, rnd.id, "CRI", SID, "abstain", author="sec")
    r = c.post(
        f"/rounds/{rnd.id}/answers",
        data={**form, f"v:{SID}": "no longer valid", f"c:{SID}": "My reason."},
    )
    assert r.status_code == 409
    soup = BeautifulSoup(r.text, "html.parser")
    assert soup.select_one(f"textarea[name='c:{SID}']").text == "My reason."
    assert "Saved now: abstain, by sec" in r.text
    assert [o.value.value for o in consult.opinions(store, rnd.id)] == ["abstain"]
