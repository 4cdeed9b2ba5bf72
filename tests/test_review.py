"""New declarations and the review queue (rcm.review), on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from rcm.consult import ConflictError
from rcm.errors import NotFound
from rcm.export import compendium_document
from rcm.model import DeclarationText, DraftStatement, MeetingKind
from rcm.review import (
    ReviewError,
    accept_proposal,
    add_declaration,
    declarations,
    meeting_number,
    parse_placement,
    proposal,
    proposals,
    reject_proposal,
    reopen_proposal,
)
from rcm.search import SearchRequest, search
from rcm.store import schema as t
from rcm.suggest import label_compendium

TEXTS = [
    "We commit to strengthen consular protection and assistance for migrants in transit "
    "through the region, regardless of their migratory status.",
    "We recognize that the smuggling of migrants and trafficking in persons are serious crimes "
    "that require coordinated action by countries of origin, transit and destination.",
    "Promote the sustainable reintegration of returned migrants, with special attention to "
    "unaccompanied children and adolescents.",
]


def declaration(texts=TEXTS, name="xxii.txt") -> DeclarationText:
    raw = "\n\n".join(texts).encode()
    return DeclarationText(
        name=name,
        sha256=hashlib.sha256(raw).hexdigest(),
        size=len(raw),
        lang="en",
        title="Declaration of the XXII Regional Conference on Migration",
        preamble=("Recognizing the importance of regional dialogue,",),
        statements=tuple(
            DraftStatement(position=i, text=x, line=2 * i + 1) for i, x in enumerate(texts, 1)
        ),
        closing=("Adopted in San Salvador, El Salvador, June 2017.",),
    )


@pytest.fixture
def filled(store, compendium):
    store.ingest(label_compendium(compendium))
    return store


def count(store, table):
    with store.connection() as conn:
        return conn.scalar(select(func.count()).select_from(table))


def test_a_declaration_is_queued_with_suggestions_and_nothing_enters_the_compendium(filled):
    before = search(filled, SearchRequest("consular protection")).total
    record, queued = add_declaration(
        filled, declaration(), meeting="XXII", year=2017, place="San Salvador", actor="sec"
    )
    assert record.meeting.code == "XXII" and record.meeting.label == "XXII RCM"
    assert record.counts == {"pending": 3, "accepted": 0, "rejected": 0}
    assert record.preamble == ("Recognizing the importance of regional dialogue,",)
    assert [p.position for p in queued] == [1, 2, 3]
    first = queued[0]
    assert first.state == "pending" and first.statement_id is None
    assert first.suggested_category == "commitment"
    assert first.suggestions["category"]["cue"]["phrase"].startswith("commit")
    assert first.suggested_placements and 14 in first.suggested_objectives
    assert queued[1].suggested_category == "understanding"
    assert queued[2].suggested_category == "commitment"
    assert {9, 10} & set(queued[1].suggested_objectives)
    # nothing in the compendium yet: no meeting, no statement, not searchable
    assert count(filled, t.statements) == 129
    assert "XXII" not in {m.code for m in filled.meetings()}
    assert search(filled, SearchRequest("consular protection")).total == before


def test_accepting_as_suggested(filled):
    _, queued = add_declaration(filled, declaration(), meeting="XXII", year=2017, actor="sec")
    p = accept_proposal(filled, queued[0].id, actor="ana")
    assert p.state == "accepted" and p.decided_by == "ana" and p.statement_id.startswith("XXII-")
    assert p.decision["category_as_suggested"] and p.decision["placements_as_suggested"]
    statement, placements = filled.statement(p.statement_id)
    assert statement.text == TEXTS[0]
    assert statement.category.value == "commitment"
    assert statement.category_source.value == "curated"  # a person accepted it
    assert sorted((x.theme, x.subtheme) for x in placements) == sorted(
        queued[0].suggested_placements
    )
    for x in placements:
        with filled.connection() as conn:
            last = conn.scalar(
                select(func.max(t.placements.c.position)).where(
                    t.placements.c.theme == x.theme, t.placements.c.subtheme == x.subtheme
                )
            )
        assert x.position == last  # appended at the end of the sub-theme's table
    meeting = filled.meeting("XXII")
    assert (meeting.number, meeting.year, meeting.kind) == (22, 2017, MeetingKind.REGULAR)
    hits = search(filled, SearchRequest("consular protection transit"))
    assert p.statement_id in {h.id for h in hits.hits}
    exported = compendium_document(filled.load())
    mine = next(s for s in exported["statements"] if s["id"] == p.statement_id)
    assert mine["meeting"] == 22 and mine["category_source"] == "curated"
    links = [x for x in filled.load().objective_links if x.statement_id == p.statement_id]
    assert [x.objective for x in links] == queued[0].suggested_objectives
    assert all(x.source.value == "suggested" for x in links)
    with filled.connection() as conn:
        actions = [r.action for r in conn.execute(select(t.audit_events))]
    assert actions == ["declaration.add", "proposal.accept"]


def test_accepting_with_edits(filled):
    _, queued = add_declaration(filled, declaration(), meeting="XXII", year=2017, actor="sec")
    p = accept_proposal(
        filled,
        queued[1].id,
        actor="ana",
        text="We  recognize that trafficking in persons is a serious crime.",
        category="principle",
        placements=[(5, 1), (1, 1)],
        objectives=[10, 23],
    )
    assert p.decision["text_edited"] and not p.decision["category_as_suggested"]
    statement, placements = filled.statement(p.statement_id)
    assert statement.text == "We recognize that trafficking in persons is a serious crime."
    assert statement.category.value == "principle"
    notes = {(x.theme, x.note, x.also_relevant) for x in placements}
    assert notes == {
        (1, "*Statement also relevant for TS5*", (5,)),
        (5, "*Statement also relevant for TS1*", (1,)),
    }
    links = [x for x in filled.load().objective_links if x.statement_id == p.statement_id]
    assert [(x.objective, x.source.value, x.rank) for x in links] == [
        (10, "curated", 1),
        (23, "curated", 2),
    ]


def test_a_decision_is_taken_once(filled):
    _, queued = add_declaration(filled, declaration(), meeting="XXII", year=2017, actor="sec")
    with pytest.raises(ReviewError, match="say why"):
        reject_proposal(filled, queued[2].id, actor="ana", reason="  ")
    rejected = reject_proposal(
        filled, queued[2].id, actor="ana", reason="a preamble, not operative"
    )
    assert rejected.state == "rejected" and rejected.decision == {
        "reason": "a preamble, not operative"
    }
    with pytest.raises(ConflictError, match="already rejected by ana"):
        accept_proposal(filled, queued[2].id, actor="ben")
    accept_proposal(filled, queued[0].id, actor="ana")
    with pytest.raises(ConflictError, match="already accepted by ana"):
        reject_proposal(filled, queued[0].id, actor="ben", reason="no")
    assert count(filled, t.statements) == 130
    with pytest.raises(NotFound):
        proposal(filled, 999)


def test_a_rejected_proposal_can_go_back_in_the_queue(filled):
    from rcm.audit import audit_trail

    _, queued = add_declaration(filled, declaration(), meeting="XXII", year=2017, actor="sec")
    target = queued[1].id
    with pytest.raises(ConflictError, match="is pending: only a rejected proposal"):
        reopen_proposal(filled, target, actor="ana", reason="changed our minds")
    reject_proposal(filled, target, actor="ana", reason="looks like a preamble")
    with pytest.raises(ReviewError, match="say why"):
        reopen_proposal(filled, target, actor="ben", reason=" ")
    again = reopen_proposal(filled, target, actor="ben", reason="it is operative after all")
    assert again.state == "pending" and again.decided_by is None and again.decision is None
    event = audit_trail(filled, action="proposal.reopen").events[0]
    assert (event.actor, event.object) == ("ben", f"proposal {target}")
    assert event.before == {
        "state": "rejected", "decided_by": "ana", "reason": "looks like a preamble"
    }  # fmt: skip
    assert event.after == {"state": "pending", "reason": "it is operative after all"}
    # Back in the queue: it can now be accepted like any other.
    accepted = accept_proposal(filled, target, actor="ben")
    assert accepted.state == "accepted" and accepted.statement_id
    with pytest.raises(ConflictError, match="is accepted: only a rejected proposal"):
        reopen_proposal(filled, target, actor="ana", reason="no")
    with pytest.raises(NotFound):
        reopen_proposal(filled, 999, actor="ana", reason="no")


def test_two_reviewers_accepting_at_once_add_one_statement(filled):
    _, queued = add_declaration(filled, declaration(), meeting="XXII", year=2017, actor="sec")
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def reviewer(name):
        barrier.wait()
        try:
            accept_proposal(filled, queued[0].id, actor=name)
            outcomes.append("accepted")
        except ConflictError:
            outcomes.append("conflict")
        except Exception as exc:  # SQLite may refuse the second writer: it must say so clearly
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=reviewer, args=(n,)) for n in ("ana", "ben")]
    for x in threads:
        x.start()
    for x in threads:
        x.join()
    assert outcomes.count("accepted") == 1, outcomes
    assert count(filled, t.statements) == 130
    with filled.connection() as conn:
        assert conn.scalar(select(func.count()).where(t.placements.c.statement_id.like("XXII-%")))


def test_meetings_that_exist_and_files_added_twice_are_refused(filled):
    with pytest.raises(ConflictError, match="XXI RCM already exists in the compendium"):
        add_declaration(filled, declaration(), meeting="XXI", year=2016, actor="sec")
    add_declaration(filled, declaration(), meeting="XXII", year=2017, actor="sec")
    with pytest.raises(ConflictError, match="already added as declaration 1"):
        add_declaration(filled, declaration(), meeting="XXIII", year=2018, actor="sec")
    other = declaration([*TEXTS, "We agree to meet again."], name="again.txt")
    with pytest.raises(ConflictError, match="XXII RCM already exists in declaration 1"):
        add_declaration(filled, other, meeting="22", year=2017, actor="sec")
    e1, _ = add_declaration(
        filled, other, meeting="XXII", year=2017, extraordinary=True, actor="sec"
    )
    # a second file for the same extraordinary meeting is refused (it is a replacement); a second
    # extraordinary meeting of the cycle is named by its code
    with pytest.raises(ConflictError, match=f"declaration replace {e1.id} FILE"):
        add_declaration(
            filled,
            declaration(["We recognize the efforts of the Member Countries."], name="e2.txt"),
            meeting="XXII",
            year=2017,
            extraordinary=True,
            actor="sec",
        )
    e2, _ = add_declaration(
        filled,
        declaration(["We recognize the efforts of the Member Countries."], name="e2.txt"),
        meeting="XXII-E2",
        year=2017,
        actor="sec",
    )
    assert (e1.meeting.code, e2.meeting.code) == ("XXII-E1", "XXII-E2")
    assert e1.meeting.kind is MeetingKind.EXTRAORDINARY
    assert e2.meeting.label == "Extraordinary Meeting of the XXII RCM (2)"
    assert len(declarations(filled)) == 3
    p = accept_proposal(filled, proposals(filled, declaration_id=e1.id)[0].id, actor="ana")
    assert p.statement_id.startswith("XXII-E1-")
    assert filled.meeting("XXII-E1").kind is MeetingKind.EXTRAORDINARY


@pytest.mark.parametrize(
    ("meeting", "year", "message"),
    [
        ("XXIIII", 2017, "not a meeting number"),
        ("twenty", 2017, "not a meeting number"),
        ("0", 2017, "out of range"),
        ("XXII", 1850, "not plausible"),
    ],
)
def test_bad_meeting_or_year_adds_nothing(filled, meeting, year, message):
    with pytest.raises(ReviewError, match=message):
        add_declaration(filled, declaration(), meeting=meeting, year=year, actor="sec")
    assert count(filled, t.declarations) == 0 and count(filled, t.proposals) == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"placements": [(9, 9)]}, "no sub-theme 9.9"),
        ({"category": "principal"}, "unknown category 'principal'"),
        ({"objectives": [24]}, "24 is not a GCM objective"),
        ({"text": "   "}, "cannot be empty"),
    ],
)
def test_a_bad_decision_writes_nothing(filled, changes, message):
    _, queued = add_declaration(filled, declaration(), meeting="XXII", year=2017, actor="sec")
    with pytest.raises(ReviewError, match=message):
        accept_proposal(filled, queued[0].id, actor="ana", **changes)
    assert proposal(filled, queued[0].id).state == "pending"
    assert count(filled, t.statements) == 129
    assert "XXII" not in {m.code for m in filled.meetings()}


def test_the_same_text_twice_in_a_meeting_is_refused(filled):
    _, queued = add_declaration(
        filled, declaration([TEXTS[0], TEXTS[0].upper()]), meeting="XXII", year=2017, actor="s"
    )
    first = accept_proposal(filled, queued[0].id, actor="ana")
    with pytest.raises(ConflictError, match=f"already has this statement as {first.statement_id}"):
        accept_proposal(filled, queued[1].id, actor="ana")


def test_reingesting_the_compilation_keeps_reviewed_statements(filled, compendium):
    _, queued = add_declaration(filled, declaration(), meeting="XXII", year=2017, actor="sec")
    accepted = accept_proposal(
        filled, queued[0].id, actor="ana", placements=[(1, 1)], objectives=[14]
    )
    result = filled.ingest(label_compendium(compendium))
    assert not result.changed and result.absent == 0
    # the compilation loses its first row of TS1.1: its rows are rewritten, ours follow them
    labelled = label_compendium(compendium)
    dropped = next(p for p in labelled.placements if (p.theme, p.subtheme, p.position) == (1, 1, 1))
    smaller = replace(labelled, placements=[p for p in labelled.placements if p is not dropped])
    result = filled.ingest(smaller)
    assert result.placements_changed and result.absent == 0
    _, placements = filled.statement(accepted.statement_id)
    rows_11 = [p for p in smaller.placements if (p.theme, p.subtheme) == (1, 1)]
    assert [(p.theme, p.subtheme, p.position) for p in placements] == [
        (1, 1, max(p.position for p in rows_11) + 1)
    ]
    links = [x for x in filled.load().objective_links if x.statement_id == accepted.statement_id]
    assert [(x.objective, x.source.value) for x in links] == [(14, "curated")]


def test_suggesters_learn_from_accepted_statements(filled):
    from rcm.suggest import Suggester, training_labels

    _, queued = add_declaration(filled, declaration(), meeting="XXII", year=2017, actor="sec")
    p = accept_proposal(filled, queued[0].id, actor="ana", category="principle")
    loaded = filled.load()
    assert training_labels(loaded)[p.statement_id].value == "principle"
    Suggester.train(loaded)  # trains with the new statement and its placements


@pytest.mark.parametrize(
    ("text", "number"), [("XXII", 22), ("xxii", 22), ("XXII RCM", 22), ("22", 22), (" 7 ", 7)]
)
def test_meeting_numbers(text, number):
    assert meeting_number(text) == number


@pytest.mark.parametrize(("text", "pair"), [("5.2", (5, 2)), ("TS5.2", (5, 2)), ("ts1/3", (1, 3))])
def test_placements_as_typed(text, pair):
    assert parse_placement(text) == pair


def test_a_malformed_placement_is_a_clear_error():
    with pytest.raises(ReviewError, match=r"write theme\.sub-theme"):
        parse_placement("TS5")


def test_proposals_list_filters(filled):
    record, _ = add_declaration(filled, declaration(), meeting="XXII", year=2017, actor="sec")
    accept_proposal(filled, proposals(filled)[0].id, actor="ana")
    assert len(proposals(filled, state="pending")) == 2
    assert len(proposals(filled, declaration_id=record.id, state="accepted")) == 1
    with pytest.raises(ReviewError, match="unknown state"):
        proposals(filled, state="done")
    with pytest.raises(NotFound):
        proposals(filled, declaration_id=42)
    json.dumps([p.as_dict() for p in proposals(filled)])


def test_a_spanish_statement_is_searchable_in_spanish(filled):
    text = "Fortalecer la protección consular de las personas migrantes en tránsito."
    raw = text.encode()
    spanish = DeclarationText(
        name="xxii_es.txt",
        sha256=hashlib.sha256(raw).hexdigest(),
        size=len(raw),
        lang="es",
        title="Declaración",
        preamble=(),
        statements=(DraftStatement(position=1, text=text, line=1, lang="es"),),
    )
    _, queued = add_declaration(filled, spanish, meeting="XXII", year=2017, actor="sec")
    assert queued[0].suggested_category == "commitment"
    p = accept_proposal(filled, queued[0].id, actor="ana")
    statement, _ = filled.statement(p.statement_id)
    assert (statement.lang, statement.text_es) == ("es", text)
    hits = search(filled, SearchRequest("protecciones consulares"))  # Spanish stems match
    assert p.statement_id in {h.id for h in hits.hits}
