"""Documents in Spanish: the Word/PDF compilation, the Excel workbook, the position document and
the questionnaire with ``--lang es`` (read back with python-docx, openpyxl and pdftotext); the
questionnaire in the focal point's language by default, its import in either language; the
command line in Spanish (LANG=es_* or ``--lang es``) with English output unchanged."""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import replace

import docx
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from rcm import consult, users
from rcm.cli import cli
from rcm.errors import DocumentError, RcmError
from rcm.export.docx import HEADER, compilation_docx
from rcm.export.position import position_docx
from rcm.export.questionnaire import write_questionnaire
from rcm.export.xlsx import compendium_xlsx
from rcm.i18n import Words, check_lang, lang_from_env, words
from rcm.model import Category
from rcm.parse import read_compilation
from rcm.search import theme_filter
from rcm.taxonomy import label_es

SPANISH_ID = "XII-8033"  # a TS5 statement, given a Spanish wording below
SPANISH_TEXT = "Las víctimas de la trata no deben ser procesadas por su situación migratoria."


@pytest.fixture(scope="module")
def bilingual(compendium):
    """The shipped compendium with one statement's Spanish wording."""
    return replace(
        compendium,
        statements=[
            replace(s, text_es=SPANISH_TEXT) if s.id == SPANISH_ID else s
            for s in compendium.statements
        ],
    )


@pytest.fixture
def ready(store, bilingual):
    store.ingest(bilingual)
    return store


def paragraphs(data: bytes) -> list[str]:
    return [p.text for p in docx.Document(io.BytesIO(data)).paragraphs]


def cells(data: bytes) -> list[list[str]]:
    d = docx.Document(io.BytesIO(data))
    return [[c.text for c in row.cells] for t in d.tables for row in t.rows]


# --- the words ----------------------------------------------------------------------------------


def test_languages_and_the_environment():
    assert check_lang("es_MX") == "es" and check_lang("es-419") == "es" and check_lang(None) == "en"
    with pytest.raises(RcmError, match="no language 'fr'"):
        check_lang("fr")
    assert lang_from_env({"LANG": "es_MX.UTF-8"}) == "es"
    assert lang_from_env({"LANG": "en_US.UTF-8"}) == "en"
    assert lang_from_env({"LANG": "C.UTF-8"}) == "en"
    assert lang_from_env({"LANG": "en_US.UTF-8", "LC_ALL": "es_ES.UTF-8"}) == "es"
    assert lang_from_env({"LANGUAGE": "es:en", "LANG": "en_US.UTF-8"}) == "es"
    assert lang_from_env({}) == "en"


def test_meetings_statuses_and_labels_in_spanish():
    es, en = words("es"), words("en")
    assert es.meeting("XIX RCM") == "XIX CRM" and en.meeting("XIX RCM") == "XIX RCM"
    assert es.meeting("Extraordinary Meeting of the XXV RCM") == (
        "Reunión Extraordinaria de la XXV CRM"
    )
    assert es.meeting("Extraordinary Meeting of the XXV RCM (2)").endswith("XXV CRM (2)")
    assert es.status("pending") == "pendiente" and en.status("pending") == "pending"
    assert es.theme(5, "x") == label_es("theme", "5")
    assert es.subtheme(3, 2, "x") == label_es("subtheme", "3.2") == "Retorno y readmisión"
    assert es.category("principle", "Principle") == "Principio"
    assert es.objective(10, "x").startswith("Prevenir, combatir y erradicar la trata")
    assert label_es("theme", "99") is None
    # The one word for a single statement, one msgstr in the catalogue.
    assert es.one_statement != es.statements_column and en.one_statement == "Statement"
    # An empty message is not the catalogue's header.
    assert es("") == ""


# --- the Word compilation ----------------------------------------------------------------------


def test_spanish_compilation(bilingual):
    data = compilation_docx(bilingual, lang="es")
    text = paragraphs(data)
    assert text[0] == "Conferencia Regional sobre Migración"
    assert "Compilación" in text[1]
    assert any(t.startswith("Introducción") for t in text) and "Índice" in text
    assert "abril de 2017" in text
    # Headings: the sessions' and sub-themes' Spanish names.
    d = docx.Document(io.BytesIO(data))
    headings = [p.text for p in d.paragraphs if p.style.name.startswith("Heading")]
    assert f"V. {label_es('theme', '5')}" in headings
    assert label_es("subtheme", "5.2") in headings
    assert "Sesión temática 5 de las Naciones Unidas" in "\n".join(text)
    # The category legend and definitions.
    assert any(t.startswith("Principio: Norma o idea fundamental") for t in text)
    rows = cells(data)
    assert ["Código de colores", ""] in rows and ["Principios", ""] in rows
    header = [words("es").statements_column, "CRM", "¿Sigue vigente?"]
    assert header in rows and list(HEADER) not in rows
    # The statement with a Spanish wording shows it; the others are English, marked.
    by_id = {r[1].split("\n")[1]: r for r in rows if len(r) == 3 and "\n" in r[1]}
    assert by_id[SPANISH_ID][0] == SPANISH_TEXT
    assert by_id[SPANISH_ID][1].startswith("XII CRM")
    english = by_id["I-0593"][0]
    assert "[en inglés]" in english and english.startswith("Promote a better understanding")
    # Notes name the other sessions in Spanish.
    notes = [r[0] for r in rows if len(r) == 3 and "También relevante para" in r[0]]
    assert any("También relevante para TS3 y TS5" in n for n in notes)
    assert any("todas las demás sesiones temáticas" in n for n in notes)
    assert not any("Statement also relevant" in r[0] for r in rows if len(r) == 3)
    assert d.core_properties.language == "es"
    # The title page and the Sources section are Spanish too (only the source's own title,
    # a proper name, stays as the document prints it).
    assert any(
        t.startswith("Fuentes (1, enumeradas en «Fuentes»): Secretaría Técnica") for t in text
    )
    assert any(t.startswith("Generado el ") for t in text)
    assert "Fuentes" in headings
    assert any(t.startswith("Compilación: Secretaría Técnica de la CRM, ") for t in text)
    for english in ("Sources", "Generated on", "Compilation:", "RCM Technical", " statements."):
        assert not any(english in t for t in text), english


def test_english_compilation_is_unchanged(bilingual):
    data = compilation_docx(bilingual)
    rows = cells(data)
    assert list(HEADER) in rows
    # The English edition keeps the English text even where a Spanish one exists.
    assert not any(SPANISH_TEXT in r[0] for r in rows)
    assert not any("[en inglés]" in r[0] for r in rows)
    assert docx.Document(io.BytesIO(data)).core_properties.language in (None, "")


def test_the_word_reader_refuses_a_spanish_edition(bilingual, tmp_path):
    path = tmp_path / "es.docx"
    path.write_bytes(compilation_docx(bilingual, lang="es"))
    with pytest.raises(DocumentError, match="Spanish edition of the compilation"):
        read_compilation(path)
    # Also without the language mark, from the tables' header alone.
    d = docx.Document(str(path))
    d.core_properties.language = ""
    d.save(str(path))
    with pytest.raises(DocumentError, match="Spanish edition"):
        read_compilation(path)
    # The English export still reads back.
    english = tmp_path / "en.docx"
    english.write_bytes(compilation_docx(bilingual))
    assert len(read_compilation(english).statements) == len(bilingual.statements)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext is not installed")
def test_spanish_pdf(bilingual, tmp_path):
    from rcm.export.registry import write_compendium

    pdf = write_compendium(bilingual, "pdf", lang="es")
    (tmp_path / "es.pdf").write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "es.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Conferencia Regional sobre Migración" in text
    assert "¿Sigue vigente?" in text and "XII CRM" in text


# --- Excel ---------------------------------------------------------------------------------------


def test_spanish_workbook(bilingual):
    wb = load_workbook(io.BytesIO(compendium_xlsx(bilingual, lang="es")))
    assert wb.sheetnames == ["Todas las disposiciones", "TS1", "TS2", "TS3", "TS4", "TS5", "TS6",
                             "Acerca de"]  # fmt: skip
    ws = wb["Todas las disposiciones"]
    header = [c.value for c in ws[1]]
    assert header[:2] == ["Identificador", "Reunión"] and header[-1] == "Texto"
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows[SPANISH_ID][-1] == SPANISH_TEXT and rows[SPANISH_ID][1] == "XII CRM"
    assert rows["I-0593"][-1].startswith("[en inglés] Promote")
    assert {r[3] for r in rows.values()} <= {"Principio", "Entendimiento", "Compromiso", None}
    ts3 = wb["TS3"]
    assert ts3.cell(1, 1).value == "Subtema"
    assert ts3.cell(2, 1).value == label_es("subtheme", "3.1")
    about = [r for r in wb["Acerca de"].iter_rows(values_only=True)]
    assert any(r[0] == "principle" and r[1] == "Principio" for r in about)
    # The English workbook is as before.
    en = load_workbook(io.BytesIO(compendium_xlsx(bilingual)))
    assert en.sheetnames[0] == "All statements" and en["All statements"].cell(1, 8).value == "Text"


# --- the position document and the questionnaire (both backends) --------------------------------


def test_spanish_position_document(ready):
    rnd = consult.open_round(ready, "TS5", filters=[theme_filter([5])])
    consult.set_opinion(ready, rnd.id, "MEX", SPANISH_ID, "valid with changes",
                        proposed_wording="Nueva redacción.", author="focal:MEX")  # fmt: skip
    data = position_docx(consult.position_document(ready, rnd.id), lang="es")
    text = "\n".join(paragraphs(data))
    for heading in ("Método", "Reafirmados", "Por actualizar", "Objetados", "Pendientes"):
        assert heading in text
    assert "La CRM decide por consenso" in text and "México (MEX)" in text
    rows = cells(data)
    assert [words("es").one_statement, "CRM", "Sin respuesta"] in rows
    flat = "\n".join(c for r in rows for c in r)
    assert SPANISH_TEXT in flat and "[en inglés]" in flat and "XII CRM" in flat
    assert "Statement" not in [r[0] for r in rows]


def fill(data: bytes, answers: dict[str, tuple[str, str | None, str | None]]) -> bytes:
    wb = load_workbook(io.BytesIO(data))
    for ws in wb.worksheets:
        if ws.title == consult.SIGNATURE_SHEET:
            continue
        for row in ws.iter_rows(min_row=2):
            if row[0].value in answers:
                row[3].value, row[4].value, row[5].value = answers[row[0].value]
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_spanish_questionnaire_and_its_import(ready):
    rnd = consult.open_round(ready, "TS5", filters=[theme_filter([5])])
    data = write_questionnaire(ready, rnd.id, "MEX", lang="es")
    wb = load_workbook(io.BytesIO(data))
    ws = wb["TS5"]
    assert [c.value for c in ws[1]] == consult.questionnaire_header("es")
    assert ws.cell(1, 4).value == "¿Sigue vigente?"
    validation = ws.data_validations.dataValidation[0]
    # The list is on the signed sheet: an inline list would split "Sí, con cambios" at its comma.
    assert validation.formula1 == "signature!$H$1:$H$4"
    sig = wb[consult.SIGNATURE_SHEET]
    assert [sig[f"H{i}"].value for i in range(1, 5)] == list(consult.ANSWERS_ES)
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows[SPANISH_ID][2] == SPANISH_TEXT and rows[SPANISH_ID][1] == "XII CRM"
    assert rows["XII-8133"][2].startswith("[en inglés] ")
    # Its answers in Spanish, English, and as typed by hand, in one file.
    filled = fill(
        data,
        {
            SPANISH_ID: ("Sí, con cambios", "Nueva redacción.", None),
            "XII-8133": ("si", None, None),
            "VIII-0378": ("No", None, "Superado."),
            "I-0593": ("Abstain", None, None),
        },
    )
    result = consult.import_questionnaire(ready, rnd.id, filled, "mex.xlsx", "focal:MEX")
    assert (result.country, result.written) == ("MEX", 4)
    answers = {
        s["id"]: s["answers"]["MEX"] for s in consult.round_status(ready, rnd.id)["statements"]
    }
    assert answers[SPANISH_ID] == "valid with changes" and answers["XII-8133"] == "valid"
    assert answers["VIII-0378"] == "no longer valid" and answers["I-0593"] == "abstain"
    # Sent back untouched: nothing changes; a fresh one shows the answers in Spanish.
    again = consult.import_questionnaire(ready, rnd.id, filled, "mex.xlsx", "focal:MEX")
    assert again.written == 0 and again.unchanged == 4
    fresh = load_workbook(io.BytesIO(write_questionnaire(ready, rnd.id, "MEX", lang="es")))
    row = next(r for r in fresh["TS5"].iter_rows(min_row=2, values_only=True) if r[0] == SPANISH_ID)
    assert row[3] == "Sí, con cambios"
    # A wrong value names both languages' words.
    bad = fill(data, {"XII-8133": ("Quizás", None, None)})
    with pytest.raises(DocumentError) as caught:
        consult.import_questionnaire(ready, rnd.id, bad, "mex.xlsx", "focal:MEX")
    assert "Sí, con cambios" in str(caught.value.problems[0])
    # The signature sheet stays intact: a wording-versions list tampered with is refused.
    tampered = load_workbook(io.BytesIO(data))
    sig = tampered[consult.SIGNATURE_SHEET]
    sig.cell(consult.WORDINGS_ROW + 1, 2).value = "99"
    out = io.BytesIO()
    tampered.save(out)
    with pytest.raises(DocumentError, match="altered"):
        consult.import_questionnaire(ready, rnd.id, out.getvalue(), "mex.xlsx", "focal:MEX")


def test_questionnaire_language_follows_the_focal_point(ready):
    rnd = consult.open_round(ready, "TS5", filters=[theme_filter([5])])
    english = load_workbook(io.BytesIO(write_questionnaire(ready, rnd.id, "MEX")))
    assert english["TS5"].cell(1, 4).value == "Still valid?"  # no focal point: English
    user, _ = users.add_user(ready, "ana", "focal_point", country="MEX", lang="es")
    assert user.lang == "es" and users.get_user(ready, "ana").lang == "es"
    spanish = load_workbook(io.BytesIO(write_questionnaire(ready, rnd.id, "MEX")))
    assert spanish["TS5"].cell(1, 4).value == "¿Sigue vigente?"
    # An explicit language wins; setting the account back is audited.
    forced = load_workbook(io.BytesIO(write_questionnaire(ready, rnd.id, "MEX", lang="en")))
    assert forced["TS5"].cell(1, 4).value == "Still valid?"
    users.set_language(ready, "ana", "en", actor="secretariat")
    again = load_workbook(io.BytesIO(write_questionnaire(ready, rnd.id, "MEX")))
    assert again["TS5"].cell(1, 4).value == "Still valid?"
    with pytest.raises(RcmError, match="no language"):
        users.set_language(ready, "ana", "pt")
    from rcm.audit import audit_trail

    events = audit_trail(ready, action="user.lang").events
    assert len(events) == 1 and events[0].after["lang"] == "en"
    assert events[0].before["lang"] == "es" and events[0].actor == "secretariat"


# --- the command line ----------------------------------------------------------------------------


@pytest.fixture
def cli_db(db_url, bilingual):
    from rcm.store import Store

    with Store(db_url, create=True) as s:
        s.ingest(bilingual)
    return db_url


def run(db_url, *args, env=None):
    return CliRunner().invoke(cli, ["--db", db_url, *args], env=env)


def test_cli_documents_in_spanish(cli_db, tmp_path):
    out = tmp_path / "es.docx"
    r = run(cli_db, "export", "--format", "docx", "--lang", "es", "-o", str(out))
    assert r.exit_code == 0, r.output
    assert paragraphs(out.read_bytes())[0] == "Conferencia Regional sobre Migración"
    xlsx = tmp_path / "es.xlsx"
    assert run(cli_db, "export", "--format", "xlsx", "--lang", "es", "-o", str(xlsx)).exit_code == 0
    assert load_workbook(xlsx).sheetnames[0] == "Todas las disposiciones"
    r = run(cli_db, "export", "--format", "json", "--lang", "es")
    assert r.exit_code == 1 and "has no language" in r.output
    # Ingesting a Spanish edition is refused, clearly, and writes nothing.
    r = run(cli_db, "ingest", str(out))
    # our Spanish Word file goes to the Spanish-edition reader (docs/spanish-edition.md), which
    # aligns its wordings to the English statements and refuses what does not align
    assert r.exit_code == 4 and "Traceback" not in r.output
    assert "Spanish edition" in r.output or "Spanish wording" in r.output
    # The questionnaire and the position document.
    r = run(cli_db, "round", "open", "TS5", "--theme", "TS5")
    assert r.exit_code == 0, r.output
    q = tmp_path / "q.xlsx"
    r = run(cli_db, "round", "questionnaire", "1", "--country", "MEX", "--lang", "es", "-o", str(q))
    assert r.exit_code == 0, r.output
    assert load_workbook(q)["TS5"].cell(1, 4).value == "¿Sigue vigente?"
    report = tmp_path / "p.docx"
    r = run(cli_db, "round", "report", "1", "--lang", "es", "-o", str(report))
    assert r.exit_code == 0, r.output
    assert "Método" in paragraphs(report.read_bytes())
    # With a round's results in the Still valid? column, in Spanish.
    filled = tmp_path / "filled.docx"
    r = run(cli_db, "export", "--format", "docx", "--lang", "es", "--round", "1", "-o", str(filled))
    assert r.exit_code == 0, r.output
    flat = "\n".join(c for row in cells(filled.read_bytes()) for c in row)
    assert "Situación: pendiente" in flat and "Aún sin respuesta" in flat


def test_cli_users_language(cli_db, tmp_path):
    r = run(cli_db, "users", "add", "ana", "--role", "focal_point", "--country", "MEX",
            "--lang", "es")  # fmt: skip
    assert r.exit_code == 0, r.output
    r = run(cli_db, "round", "open", "TS5", "--theme", "TS5")
    q = tmp_path / "q.xlsx"
    r = run(cli_db, "round", "questionnaire", "1", "--country", "MEX", "-o", str(q))
    assert load_workbook(q)["TS5"].cell(1, 4).value == "¿Sigue vigente?"
    r = run(cli_db, "users", "set", "ana", "--lang", "en")
    assert r.exit_code == 0 and "ana: language en" in r.output
    r = run(cli_db, "round", "questionnaire", "1", "--country", "MEX", "-o", str(q))
    assert load_workbook(q)["TS5"].cell(1, 4).value == "Still valid?"
    r = run(cli_db, "users", "set", "ana", "--lang", "xx")
    assert r.exit_code == 1 and "no language 'xx'" in r.output


def test_cli_speaks_spanish(cli_db):
    english = run(cli_db, "show", "XIX-0021", env={"LANG": "en_US.UTF-8"})
    assert "filed under:" in english.output and "cite as:" in english.output
    for spanish in (
        run(cli_db, "show", "XIX-0021", env={"LANG": "es_MX.UTF-8"}),
        run(cli_db, "--lang", "es", "show", "XIX-0021", env={"LANG": "en_US.UTF-8"}),
    ):
        assert spanish.exit_code == 0, spanish.output
        assert "clasificado en:" in spanish.output and "citar como:" in spanish.output
        assert "XIX CRM" in spanish.output and "filed under" not in spanish.output
    s = run(cli_db, "show", SPANISH_ID, env={"LANG": "es_ES.UTF-8"})
    assert SPANISH_TEXT in s.output
    stats = run(cli_db, "stats", env={"LANG": "es_ES.UTF-8"})
    assert "disposiciones por reunión" in stats.output and "I CRM" in stats.output
    assert label_es("theme", "1") in stats.output
    found = run(cli_db, "search", "trafficking", env={"LANG": "es_ES.UTF-8"})
    assert found.exit_code == 0, found.output
    assert " disposiciones: " in found.output and "orden: pertinencia" in found.output
    assert "reunión: " in found.output
    error = run(cli_db, "show", "XIX-9999", env={"LANG": "es_ES.UTF-8"})
    assert error.exit_code == 2 and "no existe la disposición XIX-9999" in error.output
    bad_theme = run(cli_db, "search", "--theme", "TS9", env={"LANG": "es_ES.UTF-8"})
    assert "no existe el tema TS9" in bad_theme.output or "no es un tema" in bad_theme.output


def test_cli_english_output_does_not_depend_on_the_catalogue(cli_db):
    plain = run(cli_db, "stats", env={"LANG": "C.UTF-8"})
    assert plain.output.startswith("covers                ")
    assert "\nstatements            " in plain.output
    assert "statements per meeting" in plain.output and "  I RCM" in plain.output
    assert plain.output == run(cli_db, "--lang", "en", "stats", env={"LANG": "es_MX.UTF-8"}).output


def test_category_words_cover_every_category():
    es = words("es")
    for category in Category:
        assert es.category(category.value, "x") != "x"
    assert isinstance(es, Words)


# --- the web -------------------------------------------------------------------------------------


def test_web_account_language_and_downloads_in_the_page_language(ready):
    from webclient import add_people, client_for, csrf_of

    passwords = add_people(ready, "sec", "mex")
    rnd = consult.open_round(ready, "TS5", filters=[theme_filter([5])])
    c = client_for(ready, passwords, "mex", next="/")
    page = c.get("/account")
    assert page.status_code == 200 and 'name="lang"' in page.text
    r = c.post("/account/lang", data={"csrf": csrf_of(c, "/account"), "lang": "xx"})
    assert r.status_code == 400 and "Choose English or Spanish." in r.text
    assert users.get_user(ready, "mex").lang == "en"
    r = c.post("/account/lang", data={"csrf": csrf_of(c, "/account"), "lang": "es"})
    assert r.status_code == 303 and "lang=es" in r.headers["location"]
    assert users.get_user(ready, "mex").lang == "es"
    # The pages follow (the redirect chose Spanish), and so do the downloads.
    spanish = c.get(r.headers["location"])
    assert "Idioma de sus documentos" in spanish.text and "Guardado" in spanish.text
    q = c.get(f"/rounds/{rnd.id}/questionnaire.xlsx")
    assert q.status_code == 200
    assert load_workbook(io.BytesIO(q.content))["TS5"].cell(1, 4).value == "¿Sigue vigente?"
    found = c.get("/search.docx?q=trafficking")
    assert found.status_code == 200
    assert paragraphs(found.content)[0] == "Conferencia Regional sobre Migración"
    # what was searched, said in the document's language
    assert "Selección: el texto coincide con 'trafficking'" in paragraphs(found.content)
    english = c.get("/search.xlsx?q=trafficking&lang=en")
    assert load_workbook(io.BytesIO(english.content)).sheetnames[0] == "All statements"
    # Without the CSRF token nothing changes.
    r = c.post("/account/lang", data={"lang": "en"})
    assert r.status_code in (400, 403) and users.get_user(ready, "mex").lang == "es"
