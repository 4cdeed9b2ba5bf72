"""The consultation: rounds, opinions with history, the consensus rule, the Excel round trip, and
concurrent writers, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import threading
from datetime import date

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import func, select

from rcm import consult
from rcm.cli import cli
from rcm.consult import ConflictError, OpinionValue, Status, consensus
from rcm.errors import DocumentError, NotFound, RcmError
from rcm.export.questionnaire import write_questionnaire
from rcm.search import theme_filter
from rcm.store import schema
from webclient import add_people

V, C, N, A = (
    OpinionValue.VALID,
    OpinionValue.VALID_WITH_CHANGES,
    OpinionValue.NO_LONGER_VALID,
    OpinionValue.ABSTAIN,
)
COUNTRIES = consult.member_countries()


def everyone(value, **others):
    answers = {c: value for c in COUNTRIES}
    answers.update(others)
    return answers


@pytest.mark.parametrize(
    ("answers", "silence", "status"),
    [
        (everyone(V), False, Status.REAFFIRMED),
        (everyone(V, CRI=A), False, Status.REAFFIRMED),  # an abstention is not an objection
        (everyone(V, MEX=C), False, Status.TO_BE_UPDATED),
        (everyone(V, MEX=C, USA=N), False, Status.CONTESTED),
        (everyone(V, USA=None), False, Status.PENDING),
        (everyone(V, USA=None), True, Status.REAFFIRMED),  # silence after the deadline
        (everyone(None, CAN=N), False, Status.CONTESTED),  # an objection decides at once
        (everyone(None), False, Status.PENDING),
    ],
)
def test_consensus(answers, silence, status):
    assert consensus(answers, silence) is status


@pytest.fixture
def ready(store, compendium):
    store.ingest(compendium)
    return store


def test_open_round_fixes_its_statements(ready, compendium):
    rnd = consult.open_round(ready, "TS5", filters=[theme_filter([5])], deadline="2017-06-30")
    ts5 = {p.statement_id for p in compendium.placements if p.theme == 5}
    assert rnd.statements == len(ts5) == 31
    assert rnd.scope == "theme is TS5" and rnd.state == "open"
    all_round = consult.open_round(ready, "All")
    assert all_round.statements == 129 and all_round.id != rnd.id
    with pytest.raises(RcmError, match="not a date"):
        consult.open_round(ready, "x", deadline="30/06/2017")
    with pytest.raises(RcmError, match="needs a title"):
        consult.open_round(ready, "  ")


def test_opinions_are_versioned_and_audited(ready):
    rnd = consult.open_round(ready, "All")
    sid = "XII-8133"
    first = consult.set_opinion(ready, rnd.id, "cri", sid, "valid", author="focal:CRI")
    second = consult.set_opinion(
        ready,
        rnd.id,
        "CRI",
        sid,
        "valid with changes",
        proposed_wording="Prevent and punish trafficking.",
        author="focal:CRI",
        expected_version=1,
    )
    assert (first.version, second.version) == (1, 2)
    with pytest.raises(ConflictError, match="version 2, you read 1"):
        consult.set_opinion(
            ready, rnd.id, "CRI", sid, "valid", author="secretariat", expected_version=1
        )
    hist = consult.history(ready, sid)
    assert [(h["version"], h["value"]) for h in hist] == [(1, "valid"), (2, "valid with changes")]
    with ready.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(schema.audit_events)) == 3  # open + 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("XXX", "XII-8133", "valid"), "not a Member Country"),
        (("CRI", "XII-8133", "maybe"), "is not an answer"),
        (("CRI", "XII-8133", "valid with changes"), "needs the proposed wording"),
        (("CRI", "XII-8133", "no longer valid"), "needs a reason"),
    ],
)
def test_bad_opinions(ready, args, message):
    rnd = consult.open_round(ready, "All")
    with pytest.raises(RcmError, match=message):
        consult.set_opinion(ready, rnd.id, *args, author="x")


def test_closed_round_is_read_only(ready):
    rnd = consult.open_round(ready, "TS5", filters=[theme_filter([5])])
    with pytest.raises(NotFound, match="not in round"):
        consult.set_opinion(
            ready, rnd.id, "CRI", "I-7798" if False else "XIX-0021", "valid", author="x"
        )
    consult.close_round(ready, rnd.id)
    with pytest.raises(ConflictError, match="closed"):
        consult.set_opinion(ready, rnd.id, "CRI", "XII-8133", "valid", author="x")
    consult.reopen_round(ready, rnd.id)
    assert consult.set_opinion(ready, rnd.id, "CRI", "XII-8133", "valid", author="x").version == 1
    with pytest.raises(ConflictError, match="already open"):
        consult.reopen_round(ready, rnd.id)


def test_status_and_the_silence_rule(ready):
    rnd = consult.open_round(
        ready, "TS5", filters=[theme_filter([5])], deadline="2017-06-30", silence_is_consent=True
    )
    for c in COUNTRIES[:5]:
        consult.set_opinion(ready, rnd.id, c, "XII-8133", "valid", author=c)
    consult.set_opinion(
        ready, rnd.id, "USA", "XII-8033", "no longer valid", reason="Superseded.", author="USA"
    )
    before = consult.round_status(ready, rnd.id, today=date(2017, 6, 1))
    states = {s["id"]: s["status"] for s in before["statements"]}
    assert states["XII-8133"] == "pending" and states["XII-8033"] == "contested"
    assert before["countries"]["CRI"] == {
        "answered": 1,
        "total": 31,
        "changes": 0,
        "objections": 0,
        "earlier_wording": 0,
    }
    assert before["countries"]["USA"]["objections"] == 1
    after = consult.round_status(ready, rnd.id, today=date(2017, 7, 1))
    states = {s["id"]: s["status"] for s in after["statements"]}
    assert states["XII-8133"] == "reaffirmed" and states["XII-8033"] == "contested"
    assert after["totals"] == {"reaffirmed": 30, "contested": 1}
    assert after["themes"]["5"]["contested"] == 1


def test_concurrent_writers_lose_nothing(ready):
    rnd = consult.open_round(ready, "TS5", filters=[theme_filter([5])])
    ids = [s["id"] for s in consult.round_status(ready, rnd.id)["statements"]]
    errors: list[Exception] = []

    def writer(country: str, values: list[str]) -> None:
        try:
            for i in range(60):
                sid = ids[i % len(ids)]
                consult.set_opinion(
                    ready,
                    rnd.id,
                    country,
                    sid,
                    values[i % len(values)],
                    proposed_wording="w",
                    reason="r",
                    author=f"focal:{country}",
                )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=writer, args=("CRI", ["valid", "abstain"])),
        threading.Thread(target=writer, args=("MEX", ["valid with changes", "valid"])),
        threading.Thread(target=writer, args=("USA", ["no longer valid", "valid"])),
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors and not isinstance(errors[0], ConflictError):
        raise errors[0]
    with ready.engine.connect() as conn:
        history = conn.scalar(select(func.count()).select_from(schema.opinion_history))
        versions = conn.execute(
            select(schema.opinions.c.country, func.sum(schema.opinions.c.version)).group_by(
                schema.opinions.c.country
            )
        ).all()
    # Every accepted write is one history row and one version; nothing was lost or doubled.
    assert history == sum(v for _, v in versions) == 180 - len(errors)
    assert not errors


# --- the Excel questionnaire --------------------------------------------------------------------


def fill(data: bytes, answers: dict[str, tuple[str, str | None, str | None]]) -> bytes:
    wb = load_workbook(io.BytesIO(data))
    for ws in wb.worksheets:
        if ws.title == consult.SIGNATURE_SHEET:
            continue
        for row in ws.iter_rows(min_row=2):
            if row[0].value in answers:
                answer, wording, comment = answers[row[0].value]
                row[3].value, row[4].value, row[5].value = answer, wording, comment
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_questionnaire_round_trip(ready):
    rnd = consult.open_round(ready, "TS3 and TS5", filters=[theme_filter([3, 5])])
    data = write_questionnaire(ready, rnd.id, "PAN")
    wb = load_workbook(io.BytesIO(data))
    # One sheet per theme the round's statements are filed under (a TS5 statement also filed under
    # TS1 appears on both sheets, as in the compilation).
    assert wb.sheetnames == ["TS1", "TS2", "TS3", "TS4", "TS5", "TS6", "signature"]
    assert wb["signature"].sheet_state == "veryHidden" and wb["signature"].protection.sheet
    ws = wb["TS5"]
    assert [c.value for c in ws[1]] == consult.HEADER
    assert ws.max_row - 1 == 31
    validation = ws.data_validations.dataValidation[0]
    assert validation.formula1 == '"Yes,Yes, with changes,No,Abstain"'
    filled = fill(
        data,
        {
            "XII-8133": ("Yes", None, None),
            "XII-8033": ("Yes, with changes", "Victims should not be prosecuted.", None),
            "VIII-0378": ("No", None, "Superseded by the XXI RCM."),  # in TS3 and TS5: both sheets
            "I-0593": ("Abstain", None, "To be consulted."),
        },
    )
    result = consult.import_questionnaire(ready, rnd.id, filled, "pan.xlsx", "focal:PAN")
    assert (result.country, result.written, result.unchanged) == ("PAN", 4, 0)
    status = consult.round_status(ready, rnd.id)
    answers = {s["id"]: s["answers"]["PAN"] for s in status["statements"]}
    assert answers["XII-8033"] == "valid with changes" and answers["VIII-0378"] == "no longer valid"
    again = consult.import_questionnaire(ready, rnd.id, filled, "pan.xlsx", "focal:PAN")
    assert (again.written, again.unchanged) == (0, 4)
    # A fresh questionnaire shows the answers given so far.
    refreshed = load_workbook(io.BytesIO(write_questionnaire(ready, rnd.id, "PAN")))
    row = next(
        r for r in refreshed["TS5"].iter_rows(min_row=2, values_only=True) if r[0] == "XII-8033"
    )
    assert row[3:5] == ("Yes, with changes", "Victims should not be prosecuted.")


def _opinion_count(store) -> int:
    with store.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(schema.opinion_history)) or 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"XII-8133": ("Perhaps", None, None)}, "sheet TS5, row"),
        ({"XII-8033": ("Yes, with changes", None, None)}, "needs the proposed wording"),
        ({"XII-8133": ("No", None, None)}, "needs the reason"),
    ],
)
def test_questionnaire_errors_name_sheet_and_row(ready, change, message):
    rnd = consult.open_round(ready, "TS5", filters=[theme_filter([5])])
    data = fill(
        write_questionnaire(ready, rnd.id, "CRI"),
        {"XII-8330": ("Yes", None, None), **change},
    )
    before = _opinion_count(ready)
    with pytest.raises(DocumentError, match=message):
        consult.import_questionnaire(ready, rnd.id, data, "cri.xlsx", "focal:CRI")
    assert _opinion_count(ready) == before


def test_questionnaire_tampering_and_junk(ready):
    rnd = consult.open_round(ready, "TS5", filters=[theme_filter([5])])
    other = consult.open_round(ready, "TS5 again", filters=[theme_filter([5])])
    data = write_questionnaire(ready, rnd.id, "CRI")
    with pytest.raises(DocumentError, match=f"for round {rnd.id}, not round {other.id}"):
        consult.import_questionnaire(ready, other.id, data, "cri.xlsx", "x")
    wb = load_workbook(io.BytesIO(data))
    wb["signature"].cell(2, 2).value = "MEX"  # pretend to be another country
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(DocumentError, match="signature does not match"):
        consult.import_questionnaire(ready, rnd.id, out.getvalue(), "cri.xlsx", "x")
    wb = load_workbook(io.BytesIO(data))
    wb["TS5"].cell(2, 1).value = "XIX-0021"  # an edited statement id
    wb["TS5"].cell(2, 4).value = "Yes"
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(DocumentError, match="sheet TS5, row 2: statement XIX-0021 is not in round"):
        consult.import_questionnaire(ready, rnd.id, out.getvalue(), "cri.xlsx", "x")
    with pytest.raises(DocumentError, match=r"not an \.xlsx questionnaire"):
        consult.import_questionnaire(ready, rnd.id, b"PK\x03\x04 not really", "x.xlsx", "x")
    with pytest.raises(DocumentError, match="at most"):
        consult.import_questionnaire(ready, rnd.id, b"\x00" * (10 * 1024 * 1024), "junk.xlsx", "x")
    assert _opinion_count(ready) == 0


def test_cli_round_trip(db_url, tmp_path):
    runner = CliRunner()

    def run(*args):
        result = runner.invoke(cli, ["--db", db_url, *args], catch_exceptions=False)
        return result

    assert run("ingest").exit_code == 0
    opened = run("round", "open", "Inputs 2017", "--theme", "TS5", "--deadline", "2017-06-30")
    assert opened.exit_code == 0
    round_id = opened.output.strip().splitlines()[-1]
    assert round_id.isdigit()
    target = tmp_path / "cri.xlsx"
    assert (
        run("round", "questionnaire", round_id, "--country", "CRI", "-o", str(target)).exit_code
        == 0
    )
    target.write_bytes(fill(target.read_bytes(), {"XII-8133": ("Yes", None, None)}))
    imported = run("round", "import", round_id, str(target))
    assert imported.exit_code == 0 and "CRI: 1 answers written" in imported.output
    assert run("opinion", "set", round_id, "MEX", "XII-8133", "abstain").exit_code == 0
    status = run("round", "status", round_id)
    assert "XII-8133" in status.output and "CRI 1/31" in status.output
    assert run("round", "close", round_id).exit_code == 0
    refused = runner.invoke(
        cli, ["--db", db_url, "opinion", "set", round_id, "USA", "XII-8133", "valid"]
    )
    assert refused.exit_code == 5 and "closed" in refused.output
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"junk")
    result = runner.invoke(cli, ["--db", db_url, "round", "import", round_id, str(bad)])
    assert result.exit_code == 4 and result.output.startswith("rcm: error: bad.xlsx")
    assert run("round", "list").output.count("Inputs 2017") == 1


def test_statement_page_shows_every_version_to_those_who_may_see_it(ready):
    from fastapi.testclient import TestClient

    from rcm.web import create_app

    rnd = consult.open_round(ready, "TS5", filters=[theme_filter([5])])
    consult.set_opinion(ready, rnd.id, "CRI", "XII-8133", "valid", author="focal:CRI")
    consult.set_opinion(
        ready, rnd.id, "CRI", "XII-8133", "no longer valid", reason="<b>Old</b>", author="focal:CRI"
    )
    passwords = add_people(ready, "sec", "cri", "mex")

    def rows_seen_by(who):
        with TestClient(create_app(ready)) as c:
            if who:
                c.get("/login")
                c.post(
                    "/login",
                    data={
                        "username": who,
                        "password": passwords[who],
                        "csrf": c.cookies.get("rcm_login"),
                    },
                )
            html = c.get("/statements/XII-8133").text
            api = c.get("/api/statements/XII-8133").json()
        from bs4 import BeautifulSoup

        shown = BeautifulSoup(html, "html.parser").select("table.opinions tbody tr")
        assert len(shown) == len(api["opinions"])
        if any(o["reason"] for o in api["opinions"]):
            assert "&lt;b&gt;Old&lt;/b&gt;" in html
        return [o["version"] for o in api["opinions"]]

    assert rows_seen_by("sec") == [1, 2]
    assert rows_seen_by("cri") == [1, 2]
    assert rows_seen_by("mex") == []  # another country's drafts are never shown
    assert rows_seen_by(None) == []
    consult.close_round(ready, rnd.id)
    assert rows_seen_by(None) == []  # closed but not public
    public = consult.open_round(ready, "Public", filters=[theme_filter([5])], public=True)
    consult.set_opinion(ready, public.id, "MEX", "XII-8133", "valid", author="focal:MEX")
    consult.close_round(ready, public.id)
    assert rows_seen_by(None) == [1]


def test_regional_position(ready):
    rnd = consult.open_round(ready, "TS4", filters=[theme_filter([4])])
    ids = [s["id"] for s in consult.round_status(ready, rnd.id)["statements"]]
    reaffirmed, updated, contested = ids[0], ids[1], ids[2]
    for c in COUNTRIES:
        consult.set_opinion(ready, rnd.id, c, reaffirmed, "valid", author=c)
        consult.set_opinion(ready, rnd.id, c, updated, "valid", author=c)
    consult.set_opinion(
        ready, rnd.id, "GTM", updated, "valid with changes", proposed_wording="New.", author="GTM"
    )
    consult.set_opinion(
        ready, rnd.id, "HND", contested, "no longer valid", reason="Outdated.", author="x"
    )
    position = consult.regional_position(ready, rnd.id)
    ts4 = next(s for s in position["themes"] if s["theme"] == 4)
    assert [e["id"] for e in ts4["reaffirmed"]["unassigned"]] == [reaffirmed]
    assert ts4["to_be_updated"][0]["id"] == updated
    assert ts4["to_be_updated"][0]["proposed_wording"] == {"GTM": "New."}
    assert [e["id"] for e in position["contested"]] == [contested]
    assert position["contested"][0]["reasons"] == {"HND": "Outdated."}
    assert len(position["pending"]) == len(ids) - 3
    assert position["totals"] == {
        "reaffirmed": 1,
        "to be updated": 1,
        "contested": 1,
        "pending": len(ids) - 3,
    }


def test_a_full_round_from_the_cli(db_url, tmp_path):
    """Open, 11 questionnaires out, answers in, status, regional position."""
    runner = CliRunner()

    def run(*args):
        result = runner.invoke(cli, ["--db", db_url, *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    run("ingest")
    round_id = run("round", "open", "TS4", "--theme", "TS4").strip().splitlines()[-1]
    for country in COUNTRIES:
        path = tmp_path / f"{country}.xlsx"
        run("round", "questionnaire", round_id, "--country", country, "-o", str(path))
        wb = load_workbook(path)
        for ws in wb.worksheets:
            if ws.title == consult.SIGNATURE_SHEET:
                continue
            for row in ws.iter_rows(min_row=2):
                if row[0].value == "XIV-7894" and country == "GTM":
                    row[3].value, row[4].value = "Yes, with changes", "Guatemala's wording."
                else:
                    row[3].value = "Yes"
        wb.save(path)
        assert f"{country}: " in run("round", "import", round_id, str(path))
    status = json.loads(run("round", "status", round_id, "--json"))
    assert all(v["answered"] == v["total"] == 14 for v in status["countries"].values())
    position = json.loads(run("round", "position", round_id, "--json"))
    ts4 = next(s for s in position["themes"] if s["theme"] == 4)
    updated = {e["id"]: e["proposed_wording"] for e in ts4["to_be_updated"]}
    assert updated == {"XIV-7894": {"GTM": "Guatemala's wording."}}
    assert status["totals"] == {"reaffirmed": 13, "to be updated": 1}
    assert "Regional position" in run("round", "position", round_id)


def test_who_sees_what_is_decided_once_in_the_core(ready):
    """The rules the web's round and statement pages and the CLI's `--as` share: published means
    public and closed; results are the Secretariat's and observers' until then; a focal point
    answers for their own country, the Secretariat for the one it chooses, an observer for none;
    only the changed rows of a form are written."""
    from rcm import users
    from rcm.users import AuthError, Forbidden

    sec, _ = users.add_user(ready, "sec", "secretariat")
    cri, _ = users.add_user(ready, "cri", "focal_point", country="CRI")
    obs, _ = users.add_user(ready, "obs", "observer")
    public = consult.open_round(ready, "Public", filters=[theme_filter([5])], public=True)
    private = consult.open_round(ready, "Private", filters=[theme_filter([5])])
    assert not consult.is_published(public)
    assert [r.id for r in consult.visible_rounds(ready, None)] == []
    assert len(consult.visible_rounds(ready, cri)) == 2
    with pytest.raises(AuthError, match="before they are published"):
        consult.check_can_see_results(None, public)
    with pytest.raises(Forbidden):
        consult.check_can_see_results(cri, public)
    assert consult.answers_instead_of_results(cri, public)
    for who in (sec, obs):
        consult.check_can_see_results(who, private)
        assert not consult.answers_instead_of_results(who, private)
    assert consult.answering_country(cri, None) == "CRI"
    assert consult.answering_country(sec, "mex") == "MEX"
    for who, requested, error in [(cri, "MEX", Forbidden), (obs, "CRI", Forbidden)]:
        with pytest.raises(error):
            consult.answering_country(who, requested)
    with pytest.raises(RcmError, match="Choose a Member Country"):
        consult.answering_country(sec, "XYZ")
    sid = consult.round_status(ready, public.id)["statements"][0]["id"]
    form = {f"v:{sid}": "valid", f"c:{sid}": "fine", f"ver:{sid}": "0", "csrf": "x"}
    assert len(consult.save_form(ready, cri, public, "CRI", form)) == 1
    assert consult.changed_answers(ready, public.id, "CRI", form) == []  # unchanged: not again
    assert consult.save_form(ready, cri, public, "CRI", form) == []
    history = consult.history(ready, sid)
    assert consult.visible_history(ready, sid, None) == []
    assert consult.visible_history(ready, sid, cri) == consult.visible_history(ready, sid, obs)
    assert len(history) == 1
    consult.close_round(ready, public.id)
    published = consult.get_round(ready, public.id)
    assert consult.is_published(published)
    consult.check_can_see_results(None, published)
    assert [r.id for r in consult.visible_rounds(ready, None)] == [public.id]
    assert len(consult.visible_history(ready, sid, None)) == 1
    with pytest.raises(Forbidden, match="closed"):
        consult.save_form(ready, cri, published, "CRI", form)
