"""Correcting the review queue (rcm.review): preamble and closing paragraphs promoted, proposals
split and merged, statements added by hand, declarations withdrawn and replaced; on SQLite and
PostgreSQL. Every refusal writes nothing."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from rcm.audit import audit_trail
from rcm.consult import ConflictError
from rcm.errors import NotFound
from rcm.model import DeclarationText, DraftStatement
from rcm.review import (
    ReviewError,
    accept_proposal,
    add_declaration,
    add_proposal,
    declaration_record,
    declarations,
    merge_proposal,
    promote_paragraph,
    proposal,
    proposals,
    reject_proposal,
    reopen_proposal,
    replace_declaration,
    split_points,
    split_proposal,
    withdraw_declaration,
)
from rcm.store import schema as t
from rcm.suggest import label_compendium
from rcm.users import Forbidden, add_user, get_user

TWO_SENTENCES = (
    "We commit to strengthen consular protection for migrants in transit. We also recognize "
    "the role of civil society in the protection of migrants, e.g. shelters run by churches."
)
LIST = DraftStatement(
    position=3,
    text="Instruct the Technical Secretariat to: prepare a compilation of statements; circulate "
    "it among the Member Countries; report at the next meeting.",
    items=(
        "prepare a compilation of statements;",
        "circulate it among the Member Countries;",
        "report at the next meeting.",
    ),
    line=9,
)
PREAMBLE = (
    "Recognizing the importance of regional dialogue,",
    "Concerned by the risks faced by unaccompanied migrant children,",
)
CLOSING = (
    "The Vice-Ministers thank the Government of El Salvador for its hospitality.",
    "Adopted in San Salvador, El Salvador, June 2017.",
)


def declaration(statements=None, name="xxii.txt", salt="") -> DeclarationText:
    statements = statements or (
        DraftStatement(position=1, text=TWO_SENTENCES, line=5),
        DraftStatement(
            position=2,
            text="Promote the sustainable reintegration of returned migrants.",
            line=7,
        ),
        LIST,
    )
    raw = ("\n\n".join(s.text for s in statements) + salt).encode()
    return DeclarationText(
        name=name,
        sha256=hashlib.sha256(raw).hexdigest(),
        size=len(raw),
        lang="en",
        title="Declaration of the XXII Regional Conference on Migration",
        preamble=PREAMBLE,
        statements=tuple(statements),
        closing=CLOSING,
    )


@pytest.fixture
def filled(store, compendium):
    store.ingest(label_compendium(compendium))
    return store


@pytest.fixture
def queued(filled):
    record, _ = add_declaration(filled, declaration(), meeting="XXII", year=2017, actor="sec")
    return filled, record.id


def snapshot(store):
    """Everything the corrections touch, to show that a refusal wrote nothing."""
    with store.connection() as conn:
        return (
            [tuple(r) for r in conn.execute(select(t.proposals).order_by(t.proposals.c.id))],
            [tuple(r) for r in conn.execute(select(t.declarations).order_by(t.declarations.c.id))],
            conn.scalar(select(func.count()).select_from(t.audit_events)),
            conn.scalar(select(func.count()).select_from(t.statements)),
        )


def texts(store, declaration_id):
    return [(p.position, p.text) for p in proposals(store, declaration_id=declaration_id)]


def test_preamble_and_closing_are_kept_apart_and_can_be_promoted(queued):
    store, did = queued
    record = declaration_record(store, did)
    assert record.preamble == PREAMBLE and record.closing == CLOSING and record.promoted == {}
    second = promote_paragraph(store, did, "preamble", 2, actor="sec")
    first = promote_paragraph(store, did, "preamble", 1, actor="sec")
    thanks = promote_paragraph(store, did, "closing", 1, actor="sec")
    # document order: preamble 1, preamble 2, the operative part, closing 1
    assert [p.id for p in proposals(store, declaration_id=did)][:2] == [first.id, second.id]
    assert [p.origin for p in proposals(store, declaration_id=did)] == [
        "preamble 1", "preamble 2", None, None, None, "closing 1",
    ]  # fmt: skip
    assert [p.position for p in proposals(store, declaration_id=did)] == list(range(1, 7))
    assert first.text == PREAMBLE[0] and first.state == "pending"
    assert thanks.suggestions["category"]["category"] in {
        "principle",
        "understanding",
        "commitment",
    }
    assert thanks.as_dict()["origin"] == "closing 1"
    record = declaration_record(store, did)
    assert record.preamble == PREAMBLE  # kept as read: the numbering holds
    assert record.promoted_from("preamble", 2) == [second.id]
    # reviewed like any other
    accepted = accept_proposal(store, second.id, actor="sec")
    assert accepted.statement_id.startswith("XXII-")
    event = audit_trail(store, action="proposal.promote").events[0]
    assert event.after["from"] == "closing 1" and event.actor == "sec"


@pytest.mark.parametrize(
    ("part", "number", "error", "message"),
    [
        ("preamble", 3, ReviewError, "paragraphs 1 to 2, not 3"),
        ("closing", 0, ReviewError, "paragraphs 1 to 2, not 0"),
        ("body", 1, ReviewError, "use preamble or closing"),
        ("preamble", 1, ConflictError, "already promoted as proposal"),
    ],
)
def test_a_bad_promotion_writes_nothing(queued, part, number, error, message):
    store, did = queued
    promote_paragraph(store, did, "preamble", 1, actor="sec")
    before = snapshot(store)
    with pytest.raises(error, match=message):
        promote_paragraph(store, did, part, number, actor="sec")
    assert snapshot(store) == before


def test_split_at_a_sentence_by_text_or_number(queued):
    store, did = queued
    first = proposals(store, declaration_id=did)[0]
    assert split_points(first) == [
        "We commit to strengthen consular protection for migrants in transit.",
        "We also recognize the role of civil society in the protection of migrants, e.g. shelters "
        "run by churches.",
    ]  # "e.g. shelters" is not a sentence boundary
    a, b = split_proposal(store, first.id, at="we also recognize the role", actor="sec")
    assert a.id == first.id and a.text == split_points(first)[0]
    assert b.text == split_points(first)[1] and b.position == 2 and b.state == "pending"
    assert a.suggested_category == "commitment" and b.suggested_category == "understanding"
    assert [x[0] for x in texts(store, did)] == [1, 2, 3, 4]
    event = audit_trail(store, action="proposal.split").events[0]
    assert event.before["text"] == TWO_SENTENCES and event.after["new_proposal"] == b.id
    # and back again: merged with the next, one proposal, positions closed up
    merged = merge_proposal(store, a.id, actor="sec")
    assert merged.text == TWO_SENTENCES
    assert [x[0] for x in texts(store, did)] == [1, 2, 3]
    with pytest.raises(NotFound):
        proposal(store, b.id)
    assert audit_trail(store, action="proposal.merge").events[0].before["next_text"] == b.text


def test_split_a_list_at_an_item_keeps_its_chapeau_in_both_parts(queued):
    store, did = queued
    listed = proposals(store, declaration_id=did)[2]
    assert split_points(listed) == list(LIST.items)
    a, b = split_proposal(store, listed.id, sentence=3, actor="sec")
    assert a.items == LIST.items[:2] and b.items == LIST.items[2:]
    assert a.text == (
        "Instruct the Technical Secretariat to: prepare a compilation of statements; circulate "
        "it among the Member Countries;"
    )
    assert b.text == "Instruct the Technical Secretariat to: report at the next meeting."
    # merging the two lists under one chapeau gives the list back
    merged = merge_proposal(store, a.id, actor="sec")
    assert (merged.text, merged.items) == (LIST.text, LIST.items)
    # accepted as is, the statement keeps its items
    sid = accept_proposal(store, merged.id, actor="sec").statement_id
    assert next(x for x in store.load().statements if x.id == sid).items == LIST.items


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ({"at": "consular protection"}, "not where one of its sentences starts"),
        ({"at": "nowhere in the text"}, "is not in proposal"),
        ({"sentence": 1}, "starts at one of 2 to 2"),
        ({"sentence": 3}, "has 2 sentences"),
        ({}, "say where to split"),
        ({"at": "We also", "sentence": 2}, "say where to split"),
    ],
)
def test_splitting_where_there_is_no_boundary_writes_nothing(queued, where, message):
    store, did = queued
    first = proposals(store, declaration_id=did)[0]
    before = snapshot(store)
    with pytest.raises(ReviewError, match=message):
        split_proposal(store, first.id, actor="sec", **where)
    assert snapshot(store) == before


def test_one_sentence_cannot_be_split(queued):
    store, did = queued
    second = proposals(store, declaration_id=did)[1]
    with pytest.raises(ReviewError, match="is one sentence"):
        split_proposal(store, second.id, sentence=2, actor="sec")


def test_merging_the_last_or_a_decided_proposal_writes_nothing(queued):
    store, did = queued
    queue = proposals(store, declaration_id=did)
    before = snapshot(store)
    with pytest.raises(ReviewError, match="is the last of declaration"):
        merge_proposal(store, queue[-1].id, actor="sec")
    assert snapshot(store) == before
    reject_proposal(store, queue[1].id, actor="sec", reason="not operative")
    before = snapshot(store)
    with pytest.raises(ConflictError, match=r"the next proposal, .*, is rejected"):
        merge_proposal(store, queue[0].id, actor="sec")
    with pytest.raises(ConflictError, match="is rejected: only a pending proposal"):
        merge_proposal(store, queue[1].id, actor="sec")
    with pytest.raises(ConflictError, match="is rejected: only a pending proposal"):
        split_proposal(store, queue[1].id, sentence=2, actor="sec")
    assert snapshot(store) == before
    with pytest.raises(NotFound):
        merge_proposal(store, 999, actor="sec")


def test_a_statement_added_by_hand(queued):
    store, did = queued
    promote_paragraph(store, did, "closing", 2, actor="sec")
    added = add_proposal(
        store, did, "  We agree to   meet again in Honduras in 2018. ", actor="sec"
    )
    assert added.text == "We agree to meet again in Honduras in 2018." and added.origin == "hand"
    origins = [p.origin for p in proposals(store, declaration_id=did)]
    assert origins == [None, None, None, "hand", "closing 2"]  # before the promoted closing
    accepted = accept_proposal(store, added.id, actor="sec")
    assert accepted.statement_id.startswith("XXII-")
    before = snapshot(store)
    with pytest.raises(ConflictError, match="already has this statement"):
        add_proposal(store, did, "we agree to meet again in Honduras in 2018", actor="sec")
    with pytest.raises(ReviewError, match="cannot be empty"):
        add_proposal(store, did, "   ", actor="sec")
    with pytest.raises(NotFound):
        add_proposal(store, 42, "Something.", actor="sec")
    assert snapshot(store) == before


def test_only_the_secretariat_corrects_the_queue(queued):
    store, did = queued
    add_user(store, "obs", "observer")
    before = snapshot(store)
    obs = get_user(store, "obs")
    for act in (
        lambda: promote_paragraph(store, did, "preamble", 1, actor=obs),
        lambda: add_proposal(store, did, "Text.", actor=obs),
        lambda: split_proposal(store, 1, sentence=2, actor=obs),
        lambda: merge_proposal(store, 1, actor=obs),
        lambda: withdraw_declaration(store, did, reason="x", actor=obs),
        lambda: replace_declaration(store, did, declaration(salt="!"), actor=obs),
    ):
        with pytest.raises(Forbidden, match="only the Secretariat"):
            act()
    assert snapshot(store) == before


def test_withdrawing_rejects_the_pending_and_keeps_the_accepted(queued):
    store, did = queued
    queue = proposals(store, declaration_id=did)
    sid = accept_proposal(store, queue[1].id, actor="sec").statement_id
    with pytest.raises(ReviewError, match="say why"):
        withdraw_declaration(store, did, reason=" ", actor="sec")
    closed = withdraw_declaration(store, did, reason="the wrong document", actor="sec")
    assert closed.declaration.state == "withdrawn" and not closed.declaration.active
    assert closed.declaration.withdrawn_by == "sec"
    assert closed.declaration.withdrawn_reason == "the wrong document"
    assert closed.rejected == [queue[0].id, queue[2].id] and closed.kept == [sid]
    assert {p.state for p in proposals(store, declaration_id=did)} == {"accepted", "rejected"}
    assert proposal(store, queue[0].id).decision == {
        "reason": "declaration withdrawn: the wrong document"
    }
    assert store.statement(sid)[0].text  # still in the compendium
    event = audit_trail(store, action="declaration.withdraw").events[0]
    assert event.after["rejected_proposals"] == closed.rejected
    # twice, or any correction of a withdrawn declaration: refused, nothing written
    before = snapshot(store)
    for act in (
        lambda: withdraw_declaration(store, did, reason="again", actor="sec"),
        lambda: promote_paragraph(store, did, "preamble", 1, actor="sec"),
        lambda: add_proposal(store, did, "New text.", actor="sec"),
        lambda: reopen_proposal(store, queue[0].id, actor="sec", reason="oops"),
        lambda: replace_declaration(store, did, declaration(salt="!"), actor="sec"),
    ):
        with pytest.raises(ConflictError, match="was withdrawn by sec"):
            act()
    assert snapshot(store) == before


def test_a_withdrawn_declaration_frees_its_meeting_unless_statements_were_accepted(filled):
    first, _ = add_declaration(
        filled, declaration(), meeting="XXV", year=2020, extraordinary=True, actor="sec"
    )
    withdraw_declaration(filled, first.id, reason="added to the wrong cycle", actor="sec")
    again, _ = add_declaration(
        filled, declaration(salt="v2"), meeting="XXV", year=2020, extraordinary=True, actor="sec"
    )
    assert again.meeting.code == "XXV-E1"
    assert again.meeting.label == "Extraordinary Meeting of the XXV RCM"
    accept_proposal(filled, proposals(filled, declaration_id=again.id)[1].id, actor="sec")
    withdraw_declaration(filled, again.id, reason="withdrawn by the meeting", actor="sec")
    with pytest.raises(ConflictError, match="already exists in the compendium"):
        add_declaration(
            filled, declaration(salt="v3"), meeting="XXV", year=2020, extraordinary=True,
            actor="sec",
        )  # fmt: skip


def test_a_second_file_for_a_meeting_points_to_replace(filled):
    first, _ = add_declaration(
        filled, declaration(), meeting="XXV", year=2020, extraordinary=True, actor="sec"
    )
    before = snapshot(filled)
    with pytest.raises(ConflictError, match=rf"declaration replace {first.id} FILE.*XXV-E2"):
        add_declaration(
            filled, declaration(salt="v2"), meeting="XXV", year=2020, extraordinary=True,
            actor="sec",
        )  # fmt: skip
    with pytest.raises(ConflictError, match=rf"declaration replace {first.id} FILE"):
        add_declaration(filled, declaration(salt="v2"), meeting="XXV-E1", year=2020, actor="sec")
    with pytest.raises(ReviewError, match="no Extraordinary Meeting of the XXV RCM \\(2\\)"):
        add_declaration(filled, declaration(salt="v2"), meeting="XXV-E3", year=2020, actor="sec")
    assert snapshot(filled) == before
    # a second extraordinary meeting of the cycle is named by its code
    second, _ = add_declaration(
        filled, declaration(salt="v2"), meeting="XXV-E2", year=2020, actor="sec"
    )
    assert second.meeting.label == "Extraordinary Meeting of the XXV RCM (2)"


def test_replacing_keeps_the_meeting_and_links_what_was_accepted(filled):
    old, queue = add_declaration(
        filled, declaration(), meeting="XXV", year=2020, extraordinary=True, actor="sec"
    )
    kept = accept_proposal(filled, queue[1].id, actor="sec").statement_id
    edited = accept_proposal(
        filled, queue[2].id, actor="sec", text="Instruct the Technical Secretariat to report."
    ).statement_id
    corrected = declaration(
        (
            DraftStatement(position=1, text=TWO_SENTENCES.replace("transit", "transit,"), line=5),
            DraftStatement(
                position=2,
                text="PROMOTE the sustainable  reintegration of returned migrants",
                line=7,
            ),
            DraftStatement(position=3, text="We welcome the offer of Honduras.", line=9),
        ),
        name="xxv_e1_corrected.txt",
    )
    closed = replace_declaration(filled, old.id, corrected, actor="sec", place="Virtual")
    new = closed.replacement
    assert new is not None and new.state == "active"
    assert (new.meeting.code, new.meeting.label) == (
        "XXV-E1",
        "Extraordinary Meeting of the XXV RCM",
    )
    assert closed.declaration.state == "replaced" and closed.declaration.replaced_by == new.id
    assert closed.rejected == [queue[0].id]
    assert closed.kept == [kept, edited] and closed.not_in_new_file == [edited]
    fresh = proposals(filled, declaration_id=new.id)
    assert [p.state for p in fresh] == ["pending", "accepted", "pending"]
    assert fresh[1].statement_id == kept and closed.carried == [(queue[1].id, fresh[1].id, kept)]
    # one meeting, no "(2)", and it now comes from the corrected file
    labels = [m.label for m in filled.meetings() if m.code.startswith("XXV")]
    assert labels == ["Extraordinary Meeting of the XXV RCM"]
    assert filled.meeting("XXV-E1").place == "Virtual"
    with filled.connection() as conn:
        assert (
            conn.scalar(select(t.meetings.c.declaration_id).where(t.meetings.c.code == "XXV-E1"))
            == new.id
        )
        assert conn.scalar(select(func.count()).where(t.statements.c.meeting == "XXV-E1")) == 2
    assert [d.state for d in declarations(filled)] == ["replaced", "active"]
    event = audit_trail(filled, action="declaration.replace").events[0]
    assert event.after["replaced_by"] == new.id
    # the old one is closed; the next extraordinary meeting is still E2
    before = snapshot(filled)
    with pytest.raises(ConflictError, match=f"replaced by declaration {new.id}"):
        replace_declaration(filled, old.id, declaration(salt="x"), actor="sec")
    with pytest.raises(ConflictError, match=rf"declaration replace {new.id} FILE"):
        add_declaration(
            filled, declaration(salt="x"), meeting="XXV", year=2020, extraordinary=True,
            actor="sec",
        )  # fmt: skip
    assert snapshot(filled) == before


def test_replacing_with_the_same_or_a_known_file_writes_nothing(queued):
    store, did = queued
    before = snapshot(store)
    with pytest.raises(ConflictError, match="is the same file as declaration"):
        replace_declaration(store, did, declaration(), actor="sec")
    other, _ = add_declaration(
        store, declaration(salt="other"), meeting="XXIII", year=2018, actor="sec"
    )
    before = snapshot(store)
    with pytest.raises(ConflictError, match=f"already added as declaration {other.id}"):
        replace_declaration(store, did, declaration(salt="other"), actor="sec")
    with pytest.raises(ReviewError, match="not plausible"):
        replace_declaration(store, did, declaration(salt="new"), actor="sec", year=1800)
    with pytest.raises(NotFound):
        replace_declaration(store, 99, declaration(salt="new"), actor="sec")
    assert snapshot(store) == before
