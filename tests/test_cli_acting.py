"""`--as NAME` on the command line: the account must exist and be active, and the core allows the
action only if its role does (the web's rules). Without `--as`, the operator at the terminal acts,
named cli:$USER. On SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from rcm import consult, users
from rcm.cli import cli
from rcm.export.questionnaire import write_questionnaire
from rcm.search import theme_filter
from rcm.users import Forbidden

SID = "XII-8133"  # a TS5 statement


@pytest.fixture
def run(db_url):
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(
            cli, ["--db", db_url, *args], env={"USER": "tester"}, catch_exceptions=False
        )

    assert invoke("ingest").exit_code == 0
    for name, role, country in [
        ("sec", "secretariat", None),
        ("cri", "focal_point", "CRI"),
        ("mex", "focal_point", "MEX"),
        ("obs", "observer", None),
        ("gone", "secretariat", None),
    ]:
        args = ["users", "add", name, "--role", role] + (["--country", country] if country else [])
        assert invoke(*args).exit_code == 0
    assert invoke("users", "disable", "gone").exit_code == 0
    assert invoke("round", "open", "TS5", "--theme", "TS5").exit_code == 0
    invoke.url = db_url  # type: ignore[attr-defined]
    return invoke


def audit(run, action: str = "") -> list[tuple[str, str]]:
    out = run("audit", *(["--action", action] if action else []), "--json", "--limit", "100")
    assert out.exit_code == 0, out.output
    return [(e["actor"], e["object"]) for e in reversed(json.loads(out.output)["events"])]


REFUSED = [
    ("cri", "cri may not answer for MEX"),  # another country's focal point
    ("obs", "observers may comment but never answer"),
    ("ghost", "there is no account 'ghost' to act as"),
    ("gone", "the account 'gone' is disabled"),
]


def test_opinion_set_as(run):
    for who, message in REFUSED:
        out = run("opinion", "set", "1", "MEX", SID, "valid", "--as", who)
        assert out.exit_code == 6, (who, out.output)
        assert message in out.output and "Traceback" not in out.output
    assert audit(run, "opinion.set") == []
    assert run("opinion", "set", "1", "MEX", SID, "valid", "--as", "mex").exit_code == 0
    assert run("opinion", "set", "1", "CRI", SID, "abstain", "--as", "sec").exit_code == 0
    assert run("opinion", "set", "1", "GTM", SID, "valid").exit_code == 0  # the operator
    assert audit(run, "opinion.set") == [
        ("mex", f"round 1 MEX {SID}"),
        ("sec", f"round 1 CRI {SID}"),
        ("cli:tester", f"round 1 GTM {SID}"),
    ]
    status = json.loads(run("round", "status", "1", "--json").output)
    answers = next(s for s in status["statements"] if s["id"] == SID)["answers"]
    assert answers["MEX"] == "valid" and answers["CRI"] == "abstain"
    run("round", "close", "1")
    out = run("opinion", "set", "1", "MEX", SID, "abstain", "--as", "mex")
    assert out.exit_code == 6 and "the round is closed" in out.output


def test_round_import_as(run, tmp_path):
    path = tmp_path / "mex.xlsx"
    assert run("round", "questionnaire", "1", "--country", "MEX", "-o", str(path)).exit_code == 0
    for who, message in REFUSED:
        out = run("round", "import", "1", str(path), "--as", who)
        assert out.exit_code == 6, (who, out.output)
        assert message in out.output
    for who in ("mex", "sec"):
        out = run("round", "import", "1", str(path), "--as", who)
        assert out.exit_code == 0 and out.output.startswith("MEX: 0 answers written"), out.output


# Secretariat-only commands: (arguments, what the allowed run prints).
SECRETARIAT_ONLY = [
    (["round", "open", "Again", "--theme", "TS5"], "opened round 2"),
    (["round", "close", "1"], "round 1 closed"),
    (["round", "reopen", "1"], "round 1 open"),
    (["users", "add", "newbie", "--role", "observer"], "added newbie (observer)"),
    (["users", "disable", "obs"], "disabled obs"),
    (["users", "enable", "obs"], "enabled obs"),
    (["users", "reset-password", "obs"], "password: "),
    (["review", "reject", "1", "--reason", "not a statement"], "no proposal 1"),
    (["review", "reopen", "1", "--reason", "back"], "no proposal 1"),
    (["review", "accept", "1"], "no proposal 1"),
]


def test_secretariat_only_commands_as(run, tmp_path):
    declaration = tmp_path / "d.txt"
    declaration.write_text("The Member Countries agreed to meet again.\n", encoding="utf-8")
    commands = [
        *SECRETARIAT_ONLY,
        (["declaration", "add", str(declaration), "--meeting", "XXX", "--year", "2025"], None),
    ]
    before = audit(run)
    for args, _ in commands:
        for who, _message in REFUSED:
            out = run(*args, "--as", who)
            assert out.exit_code == 6, (args, who, out.output)
            expected = {
                "cri": "only the Secretariat may",
                "obs": "only the Secretariat may",
                "ghost": "there is no account 'ghost'",
                "gone": "the account 'gone' is disabled",
            }[who]
            assert expected in out.output, (args, who, out.output)
    assert audit(run) == before  # nothing was done, nothing audited
    for args, printed in SECRETARIAT_ONLY:
        out = run(*args, "--as", "sec")
        assert printed in out.output, (args, out.output)
    done = audit(run)[len(before) :]
    assert {actor for actor, _ in done} == {"sec"}
    assert [o for _, o in done] == [
        "round 2",
        "round 2",  # the invitations (rcm.mail; recorded as not sent: no SMTP settings)
        "round 1",
        "round 1",
        "user newbie",
        "user obs",
        "user obs",
        "user obs",
    ]


def test_the_core_decides_for_every_adapter(store, compendium):
    """The web hands the signed-in account to the same write paths: they check it themselves."""
    store.ingest(compendium)
    cri, _ = users.add_user(store, "cri", "focal_point", country="CRI", actor="setup")
    obs, _ = users.add_user(store, "obs", "observer", actor="setup")
    rnd = consult.open_round(store, "TS5", filters=[theme_filter([5])])
    answer = [consult.Answer(SID, "valid")]
    for user, country in ((cri, "MEX"), (obs, "CRI")):
        with pytest.raises(Forbidden):
            consult.set_opinions(store, rnd.id, country, answer, author=user, source="web")
        with pytest.raises(Forbidden):
            consult.set_opinion(store, rnd.id, country, SID, "valid", author=user)
    data = write_questionnaire(store, rnd.id, "MEX")
    with pytest.raises(Forbidden):
        consult.import_questionnaire(store, rnd.id, data, "mex.xlsx", cri)
    for user in (cri, obs):
        with pytest.raises(Forbidden, match="only the Secretariat may"):
            consult.open_round(store, "x", filters=[theme_filter([5])], actor=user)
        with pytest.raises(Forbidden, match="only the Secretariat may"):
            consult.close_round(store, rnd.id, user)
    assert consult.opinions(store, rnd.id) == []
    written = consult.set_opinions(store, rnd.id, "CRI", answer, author=cri, source="web")
    assert [o.author for o in written] == ["cri"]


def test_round_results_as_an_account_follow_the_web_rule(run):
    """`rcm round status/position --as NAME`: the results are the Secretariat's and observers'
    until the round is published (public and closed), then everyone's: the rule of the web's
    round pages, from the same core function."""
    for command in ("status", "position"):
        for who in ("sec", "obs"):
            assert run("round", command, "1", "--as", who).exit_code == 0
        out = run("round", "status", "1", "--as", "cri")
        assert out.exit_code != 0 and "before they are published" in out.output
    assert run("round", "open", "Public", "--theme", "TS5", "--public").exit_code == 0
    assert run("round", "close", "2").exit_code == 0
    assert run("round", "position", "2", "--as", "cri").exit_code == 0
    assert run("round", "close", "1").exit_code == 0  # closed but not public: still not theirs
    assert run("round", "position", "1", "--as", "cri").exit_code != 0
    assert run("round", "status", "1").exit_code == 0  # the operator sees everything
