"""Parallel texts (rcm.translate): a Spanish edition of the compilation and a declaration's
other-language version, aligned to the statements and reviewed, on SQLite and PostgreSQL.

The Spanish edition is built by ``tests/spanish_edition.py`` from our own translations of six
sub-theme tables (32 rows, 31 statements): this checks the reader and the aligner on that
material, not on the Secretariat's Spanish edition, which we do not have."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import func, select

import spanish_edition as se
from rcm import review, translate
from rcm.audit import audit_trail
from rcm.cli import cli
from rcm.consult import ConflictError
from rcm.errors import BadInput, DocumentError, StoreError
from rcm.model import Statement, text_in
from rcm.parse import read_declaration
from rcm.parse.align import THRESHOLD, align, similarity
from rcm.parse.spanish_edition import is_spanish_edition, parse_spanish_edition
from rcm.search import SearchParams, search
from rcm.serialize import statement_dict
from rcm.store import schema as t
from rcm.suggest import label_compendium
from rcm.web import create_app

DECLARATIONS = se.DATA.parent / "declarations"


@pytest.fixture
def filled(store, compendium):
    store.ingest(label_compendium(compendium))
    return store


def edition(compendium, fmt="txt", change=None, **kw):
    secs = se.sections(compendium)
    if change:
        change(secs)
    data = se.as_text(secs) if fmt == "txt" else se.as_docx(secs, **kw)
    return parse_spanish_edition(data, f"edicion.{fmt}")


def count(store, table):
    with store.connection() as conn:
        return conn.scalar(select(func.count()).select_from(table))


def hits(store, q):
    return [h.id for h in search(store, SearchParams(q=q, size=200).to_request(store)).hits]


# --- reading --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["txt", "docx"])
def test_the_edition_is_read_row_by_row(compendium, fmt):
    ed = edition(compendium, fmt)
    assert [(s.theme, len(s.rows)) for s in ed.sections] == [
        (1, 7), (2, 6), (4, 4), (5, 6), (6, 3), (6, 6)
    ]  # fmt: skip
    assert ed.title.startswith("Compilación de las declaraciones de la CRM")
    row = ed.sections[0].rows[1]
    assert row.meeting == "VI" and row.note_themes == (5,)
    assert row.text.startswith("Promover el establecimiento de redes") and "*" not in row.text
    assert ed.sections[4].rows[0].note_all_others


def test_only_a_spanish_title_makes_an_edition(compendium, compilation_text):
    assert is_spanish_edition(se.as_text(se.sections(compendium)))
    assert is_spanish_edition(se.as_docx(se.sections(compendium)))
    assert not is_spanish_edition(compilation_text.encode())
    assert not is_spanish_edition((DECLARATIONS / "xxii_rcm_es.txt").read_bytes())
    assert not is_spanish_edition(b"\x00\x01binary")


def test_a_table_without_its_meeting_column_is_refused(compendium):
    data = se.as_text(se.sections(compendium)).replace(
        b"Declaraciones\tCRM\t", b"Declaraciones\tFecha\t", 1
    )
    with pytest.raises(DocumentError) as e:
        parse_spanish_edition(data, "x.txt")
    assert "no CRM (meeting) column" in str(e.value.problems[0])


def test_a_meeting_cell_that_is_no_meeting_is_reported_with_its_line(compendium):
    def bad(secs):
        secs[1].rows[2].meeting = "reunión de marzo"

    with pytest.raises(DocumentError) as e:
        edition(compendium, change=bad)
    assert "'reunión de marzo' is not a meeting" in str(e.value.problems[0])
    assert e.value.problems[0].line > 0


# --- likeness -------------------------------------------------------------------------------------


def test_translations_are_alike_and_other_statements_are_not(compendium):
    """On our 31 translations: every true pair is above the threshold; of the 930 wrong pairs,
    at most a handful are (the meeting then tells them apart)."""
    spanish = se.translations()
    true, wrong = [], []
    for a in spanish:
        for b, text in spanish.items():
            score = similarity(compendium.statement(a).text, text).score
            (true if a == b else wrong).append((score, a, b))
    assert min(true)[0] >= THRESHOLD
    above = [w for w in wrong if w[0] >= THRESHOLD]
    assert len(above) <= 5
    assert all(a.split("-")[0] != b.split("-")[0] for _, a, b in above)


def test_figures_and_thesaurus_terms_count():
    en = "Reiterate our commitment to combat trafficking in persons, as agreed in 2010."
    good = "Reiterar nuestro compromiso de combatir la trata de personas, como se acordó en 2010."
    other = "Reiterar nuestro compromiso de combatir el cambio climático, como se acordó en 2014."
    a, b = similarity(en, good), similarity(en, other)
    assert a.parts["numbers"] == 1.0 and b.parts["numbers"] == 0.0
    assert a.parts["terms"] == 1.0 and (b.parts["terms"] or 0.0) < 1.0
    assert a.score > b.score


def test_align_is_monotone_and_leaves_the_unmatched_out():
    left = ["a1", "b1", "c1"]
    right = ["a2", "c2"]
    like = {("a1", "a2"): 0.9, ("c1", "c2"): 0.8, ("b1", "c2"): 0.5}

    def likeness(x, y):
        from rcm.parse.align import Likeness

        return Likeness(like.get((x, y), 0.0))

    assert [(i, j) for i, j, _ in align(left, right, likeness)] == [(0, 0), (2, 1)]


# --- aligning and queueing an edition ------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["txt", "docx"])
def test_every_row_aligns_to_its_statement_and_waits_for_review(filled, compendium, fmt):
    report = translate.queue_edition(filled, edition(compendium, fmt), actor="sec")
    spanish = se.translations()
    assert len(report.pairs) == 31 and len(report.queued) == 31
    assert {p.target: p.text for p in report.pairs} == spanish
    copies = next(p for p in report.pairs if p.target == "I-6681")
    assert len(copies.rows) == 2  # filed under TS1.4 and TS6.3
    assert any("TS3.1" in n and "not in this edition" in n for n in report.notices)
    # Nothing is set before a person decides.
    assert all(s.text_es is None for s in filled.load().statements)
    queued = translate.translations(filled, state="pending")
    assert {x.statement_id for x in queued} == set(spanish)
    assert audit_trail(filled).events[0].action == "translation.queue"


def test_a_second_ingest_queues_nothing(filled, compendium):
    ed = edition(compendium)
    translate.queue_edition(filled, ed, actor="sec")
    again = translate.queue_edition(filled, ed, actor="sec")
    assert again.queued == [] and len(again.already_queued) == 31


def test_a_dry_run_writes_nothing(filled, compendium):
    report = translate.queue_edition(filled, edition(compendium), actor="sec", dry_run=True)
    assert len(report.queued) == 31 and report.dry_run
    assert count(filled, t.translations) == 0


def test_rows_printing_ids_align_by_them(filled, compendium):
    report = translate.queue_edition(
        filled, edition(compendium, "docx", print_ids=True), actor="sec"
    )
    assert {p.target: p.text for p in report.pairs} == se.translations()


def _refused(store, compendium, change, fmt="txt"):
    audit_before = audit_trail(store).total
    with pytest.raises(DocumentError) as e:
        translate.queue_edition(store, edition(compendium, fmt, change), actor="sec")
    assert count(store, t.translations) == 0
    assert audit_trail(store).total == audit_before
    return [str(p) for p in e.value.problems]


@pytest.mark.parametrize("fmt", ["txt", "docx"])
def test_a_missing_row_is_reported_and_nothing_is_written(filled, compendium, fmt):
    def drop(secs):
        del secs[1].rows[3]  # TS2.1 row 4, IX RCM "maras"

    problems = _refused(filled, compendium, drop, fmt)
    assert len(problems) == 1
    assert "English row 4 of TS2.1 (IX-7780, IX RCM" in problems[0]
    assert "has no Spanish row" in problems[0]


def test_an_extra_row_is_reported_row_by_row(filled, compendium):
    def extra(secs):
        secs[2].rows.insert(
            1,
            se.Row(
                "", "Fomentar el turismo cultural entre los países de la región.", "VII CRM", None
            ),
        )

    [problem] = _refused(filled, compendium, extra)
    assert "line" in problem and "Fomentar el turismo" in problem
    assert "aligns with no statement of TS4.2" in problem


def test_a_row_under_another_meeting_does_not_align(filled, compendium):
    def wrong_meeting(secs):
        secs[3].rows[2].meeting = "IX CRM"  # VIII RCM's statement said to be IX's

    problems = _refused(filled, compendium, wrong_meeting)
    assert any("IX CRM" in p and "aligns with no statement of TS5.1" in p for p in problems)
    assert any("VIII-0378" in p and "has no Spanish row" in p for p in problems)


def test_swapped_rows_are_reported(filled, compendium):
    def swap(secs):
        rows = secs[1].rows
        rows[0], rows[1] = rows[1], rows[0]  # both I RCM: meeting alone cannot tell

    problems = _refused(filled, compendium, swap)
    assert len(problems) == 2  # one Spanish row and one English row left over


def test_copies_with_different_wordings_are_reported(filled, compendium):
    def reword_copy(secs):
        secs[5].rows[0].text = (
            secs[5].rows[0].text.replace("mejor conocimiento", "mayor comprensión")
        )

    [problem] = _refused(filled, compendium, reword_copy)
    assert "statement I-6681 is filed here and at" in problem


def test_another_document_is_refused_row_by_row(filled, compendium):
    """The rows of one sub-theme's table under another's: nothing aligns."""

    def shuffled(secs):
        secs[0].rows, secs[3].rows = secs[3].rows, secs[0].rows
        secs[3].theme = 5

    problems = _refused(filled, compendium, shuffled)
    assert len(problems) >= 7


def test_an_empty_database_aligns_nothing(store, compendium):
    with pytest.raises(StoreError, match="holds no compendium: run `rcm ingest` first"):
        translate.queue_edition(store, edition(compendium), actor="sec")


# --- review ---------------------------------------------------------------------------------------


def test_accepting_sets_the_spanish_text_audited_and_searchable(filled, compendium):
    translate.queue_edition(filled, edition(compendium), actor="sec")
    x = next(x for x in translate.translations(filled) if x.statement_id == "VII-0805")
    assert "VII-0805" not in hits(filled, "idónea")  # a word only the translation has
    done = translate.accept_translation(filled, x.id, actor="sec")
    assert done.state == "accepted" and done.decision["replaced"] is None
    s, placements = filled.statement("VII-0805")
    assert s.text_es == se.translations()["VII-0805"] and s.version == 1
    assert "VII-0805" in hits(filled, "idónea")
    assert "VII-0805" in hits(filled, '"herramienta idónea"')
    [event] = audit_trail(filled, obj="statement VII-0805").events
    assert event.action == "statement.translate" and event.before == {"text_es": None}
    data = statement_dict(s, filled.meeting(s.meeting), placements, {})
    assert data["text_lang"] == "en" and data["text_es"] == s.text_es
    with pytest.raises(ConflictError):
        translate.accept_translation(filled, x.id, actor="sec")


def test_a_reviewer_may_correct_the_wording(filled, compendium):
    translate.queue_edition(filled, edition(compendium), actor="sec")
    x = next(x for x in translate.translations(filled) if x.statement_id == "XV-6770")
    translate.accept_translation(filled, x.id, actor="sec", text="  Promover la conciencia. ")
    assert filled.statement("XV-6770")[0].text_es == "Promover la conciencia."
    assert translate.translation(filled, x.id).decision["text_edited"] is True


def test_rejecting_changes_nothing_but_the_queue(filled, compendium):
    translate.queue_edition(filled, edition(compendium), actor="sec")
    x = translate.translations(filled)[0]
    with pytest.raises(BadInput):
        translate.reject_translation(filled, x.id, actor="sec", reason="  ")
    done = translate.reject_translation(filled, x.id, actor="sec", reason="mal alineada")
    assert done.state == "rejected" and done.decision == {"reason": "mal alineada"}
    assert filled.statement(x.statement_id)[0].text_es is None
    # The same wording may be queued again by a later ingest, for a second look.
    again = translate.queue_edition(filled, edition(compendium), actor="sec")
    assert len(again.queued) == 1 and len(again.already_queued) == 30


def test_an_accepted_wording_is_unchanged_on_the_next_ingest(filled, compendium):
    translate.queue_edition(filled, edition(compendium), actor="sec")
    x = translate.translations(filled)[0]
    translate.accept_translation(filled, x.id, actor="sec")
    again = translate.queue_edition(filled, edition(compendium), actor="sec")
    assert again.unchanged == [x.statement_id]


def test_text_in_falls_back_to_the_statements_own_language():
    s = Statement(id="I-0001", meeting="I", text="Promote.", text_es="Promover.")
    assert text_in(s, "es") == ("Promover.", "es") and text_in(s, "en") == ("Promote.", "en")
    bare = Statement(id="I-0002", meeting="I", text="Promote.")
    assert text_in(bare, "es") == ("Promote.", "en")
    spanish = Statement(id="I-0003", meeting="I", text="Promover.", lang="es", text_es="Promover.")
    assert text_in(spanish, "en") == ("Promover.", "es")


# --- a declaration's other-language version -------------------------------------------------------


def _declaration(store, name="xxii_rcm_en.txt"):
    text = read_declaration(DECLARATIONS / name)
    record, queued = review.add_declaration(store, text, meeting="XXII", year=2017, actor="sec")
    return record, queued


def test_a_declarations_spanish_version_aligns_to_its_proposals(filled):
    record, queued = _declaration(filled)
    version = read_declaration(se.DATA / "xxii_rcm_en_version_es.txt")
    review.accept_proposal(filled, queued[2].id, actor="sec")
    report = translate.add_version(
        filled, version, declaration_id=record.id, lang="es", actor="sec"
    )
    assert len(report.pairs) == len(queued) == 13 and len(report.queued) == 13
    xs = translate.translations(filled, declaration_id=record.id)
    accepted = review.proposal(filled, queued[2].id).statement_id
    assert xs[2].statement_id == accepted and xs[2].text.startswith("Fortalecer la coordinación")
    assert xs[0].statement_id is None and xs[0].proposal_id == queued[0].id
    # A proposal not yet decided: its wording waits for it.
    with pytest.raises(ConflictError, match="not decided yet"):
        translate.accept_translation(filled, xs[0].id, actor="sec")
    review.accept_proposal(filled, queued[0].id, actor="sec")
    done = translate.accept_translation(filled, xs[0].id, actor="sec")
    sid = review.proposal(filled, queued[0].id).statement_id
    assert done.statement_id == sid
    assert filled.statement(sid)[0].text_es.startswith("Reafirmamos la importancia de la CRM")


def test_a_version_that_does_not_align_is_refused_statement_by_statement(filled):
    record, _ = _declaration(filled)
    other = read_declaration(DECLARATIONS / "xxii_rcm_es.txt")  # another text, 7 statements
    with pytest.raises(DocumentError) as e:
        translate.add_version(filled, other, declaration_id=record.id, lang="es", actor="sec")
    assert len(e.value.problems) >= 6
    assert count(filled, t.translations) == 0


def test_the_version_must_be_in_the_other_language(filled):
    record, _ = _declaration(filled)
    same = read_declaration(DECLARATIONS / "xxii_rcm_en.txt")
    with pytest.raises(BadInput, match="already in 'en'"):
        translate.add_version(filled, same, declaration_id=record.id, lang="en", actor="sec")
    with pytest.raises(BadInput, match="reads as 'en'"):
        translate.add_version(filled, same, declaration_id=record.id, lang="es", actor="sec")


def test_the_english_version_of_a_spanish_declaration_sets_text_en(filled):
    text = read_declaration(se.DATA / "xxii_rcm_en_version_es.txt")
    record, queued = review.add_declaration(filled, text, meeting="XXII", year=2017, actor="sec")
    english = read_declaration(DECLARATIONS / "xxii_rcm_en.txt")
    translate.add_version(filled, english, declaration_id=record.id, lang="en", actor="sec")
    review.accept_proposal(filled, queued[8].id, actor="sec")
    x = translate.translations(filled, declaration_id=record.id)[8]
    translate.accept_translation(filled, x.id, actor="sec")
    s = filled.statement(review.proposal(filled, queued[8].id).statement_id)[0]
    assert s.lang == "es" and s.text_en.startswith("Reiterate our commitment to combat")
    assert s.id in hits(filled, "reiterate smuggling")


# --- the adapters ---------------------------------------------------------------------------------


def test_the_cli_ingests_an_edition_and_reviews_it(db_url, tmp_path, compendium):
    runner = CliRunner()

    def run(*args):
        return runner.invoke(cli, ["--db", db_url, *args], catch_exceptions=False)

    assert run("ingest").exit_code == 0
    path = tmp_path / "edicion.docx"
    path.write_bytes(se.as_docx(se.sections(compendium)))
    out = run("ingest", str(path))
    assert out.exit_code == 0, out.output
    assert "aligned to 31 statements: 31 queued for review" in out.output
    listed = json.loads(run("review", "translations", "--json").output)
    assert len(listed) == 31 and listed[0]["state"] == "pending"
    first = listed[0]
    out = run("review", "accept-translation", str(first["id"]))
    assert f"statement {first['statement_id']} has its es text" in out.output
    shown = json.loads(run("show", first["statement_id"], "--json").output)
    assert shown["text_es"] == first["text"] and shown["text_lang"] == "en"
    bad = tmp_path / "mala.txt"
    secs = se.sections(compendium)
    del secs[0].rows[0]
    bad.write_bytes(se.as_text(secs))
    out = runner.invoke(cli, ["--db", db_url, "ingest", str(bad)])
    assert out.exit_code != 0 and "has no Spanish row" in out.output


def test_the_cli_adds_a_declarations_version(db_url):
    runner = CliRunner()

    def run(*args):
        return runner.invoke(cli, ["--db", db_url, *args], catch_exceptions=False)

    run("ingest")
    run("declaration", "add", str(DECLARATIONS / "xxii_rcm_en.txt"), "--meeting", "XXII",
        "--year", "2017")  # fmt: skip
    version = str(se.DATA / "xxii_rcm_en_version_es.txt")
    out = run("declaration", "add-version", version, "--declaration", "1", "--lang", "es",
              "--dry-run")  # fmt: skip
    assert out.output.startswith("dry run, nothing written") and "13 queued" in out.output
    out = run("declaration", "add-version", version, "--declaration", "1", "--lang", "es")
    assert "13 queued for review" in out.output


def test_the_statement_page_shows_both_wordings(filled, compendium):
    translate.queue_edition(filled, edition(compendium), actor="sec")
    x = next(x for x in translate.translations(filled) if x.statement_id == "XII-8133")
    translate.accept_translation(filled, x.id, actor="sec")
    with TestClient(create_app(filled)) as c:
        page = BeautifulSoup(c.get("/statements/XII-8133?lang=es").text, "html.parser")
        blocks = page.select(".wordings section.wording")
        assert [b["lang"] for b in blocks] == ["en", "es"]
        assert blocks[1].select_one(".statement-text")["lang"] == "es"
        assert "Destacaron el compromiso" in blocks[1].get_text()
        assert "En español" in blocks[1].get_text()
        data = c.get("/api/statements/XII-8133").json()
        assert data["text_lang"] == "en" and data["text_es"].startswith("Destacaron")
        history = c.get("/statements/XII-8133/history?lang=es").text
        assert "Redacción en español" in history and "Destacaron el compromiso" in history
        # A statement without a Spanish wording keeps the one block.
        plain = BeautifulSoup(c.get("/statements/I-7221").text, "html.parser")
        assert not plain.select(".wordings")


def test_the_secretariat_reviews_translations_on_the_web(filled, compendium):
    from webclient import add_people, client_for, csrf_of

    passwords = add_people(filled, "sec", "obs")
    translate.queue_edition(filled, edition(compendium), actor="sec")
    first, second = translate.translations(filled)[:2]
    c = client_for(filled, passwords, "sec")
    page = c.get("/review/translations?lang=es")
    assert page.status_code == 200 and "Revisar traducciones" in page.text
    soup = BeautifulSoup(page.text, "html.parser")
    box = soup.select_one(f"#translation-{first.id}")
    assert [b["lang"] for b in box.select("blockquote")] == ["en", "es"]
    token = csrf_of(c, "/review/translations")
    done = c.post(
        f"/review/translations/{first.id}/accept",
        data={"csrf": token, "text": first.text},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert filled.statement(first.statement_id)[0].text_es == first.text
    assert translate.translation(filled, first.id).decision["text_edited"] is False
    empty = c.post(f"/review/translations/{second.id}/reject", data={"csrf": token, "reason": ""})
    assert empty.status_code == 400 and translate.translation(filled, second.id).state == "pending"
    c.post(f"/review/translations/{second.id}/reject", data={"csrf": token, "reason": "no"})
    assert translate.translation(filled, second.id).state == "rejected"
    again = c.post(f"/review/translations/{first.id}/accept", data={"csrf": token, "text": "x"})
    assert again.status_code == 409
    observer = client_for(filled, passwords, "obs")
    assert observer.get("/review/translations").status_code in (403, 303)


def test_statements_added_since_the_edition_are_not_expected_in_it(filled, compendium):
    _, queued = _declaration(filled)
    review.accept_proposal(filled, queued[8].id, actor="sec", placements=[(5, 1)])
    report = translate.queue_edition(filled, edition(compendium), actor="sec")
    assert len(report.queued) == 31
    assert any("after this edition's last" in n and "TS5.1, XXII RCM" in n for n in report.notices)


def test_a_rewording_after_the_translation_is_flagged_on_the_page(filled, compendium):
    from rcm import edit

    translate.queue_edition(filled, edition(compendium), actor="sec")
    x = next(x for x in translate.translations(filled) if x.statement_id == "XV-6581")
    translate.accept_translation(filled, x.id, actor="sec")
    with TestClient(create_app(filled)) as c:
        assert "wording-changed" not in c.get("/statements/XV-6581").text
        edit.reword(
            filled,
            "XV-6581",
            "Review travel policies for separated children.",
            expected_version=1,
            actor="sec",
            origin="test",
        )
        page = c.get("/statements/XV-6581?lang=es").text
        assert "Esta redacción se aceptó para la versión 1" in page


def test_the_translations_queue_is_paged(filled, compendium):
    """A Spanish edition queues a translation per statement: the review page shows them 20 at a
    time, every one reachable by the next/previous links, a page beyond the last a 404."""
    from rcm.web.pages import TRANSLATIONS_PER_PAGE
    from webclient import add_people, client_for

    passwords = add_people(filled, "sec")
    translate.queue_edition(filled, edition(compendium), actor="sec")
    pending = [x.id for x in translate.translations(filled, state="pending")]
    assert len(pending) > TRANSLATIONS_PER_PAGE
    c = client_for(filled, passwords, "sec")
    seen: list[int] = []
    url: str | None = "/review/translations"
    while url:
        soup = BeautifulSoup(c.get(url).text, "html.parser")
        shown = [int(s["id"].removeprefix("translation-")) for s in soup.select("section")]
        assert 0 < len(shown) <= TRANSLATIONS_PER_PAGE
        seen += shown
        following = soup.select_one("nav.pages a[rel=next]")
        url = following["href"] if following else None
    assert seen == pending
    assert f"{len(pending)} translations" in soup.text
    last = -(-len(pending) // TRANSLATIONS_PER_PAGE)
    back = soup.select_one("nav.pages a[rel=prev]")["href"]
    assert back == f"/review/translations?state=pending&page={last - 1}"
    for bad in ("0", "99", "x"):
        assert c.get(f"/review/translations?page={bad}").status_code == 404
