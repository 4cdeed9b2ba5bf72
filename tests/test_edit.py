"""Edits of a statement by id (rcm.edit): versions, audit, optimistic concurrency, retirement,
one transaction per edit; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from rcm import edit
from rcm.audit import audit_trail
from rcm.errors import BadInput, ConflictError, NotFound
from rcm.search import SearchParams, search
from rcm.store import schema as t
from rcm.suggest import label_compendium


@pytest.fixture
def filled(store, compendium):
    store.ingest(label_compendium(compendium))
    return store


def _some(store, meeting="XIX"):
    with store.connection() as conn:
        return conn.scalar(
            select(t.statements.c.id)
            .where(t.statements.c.meeting == meeting)
            .order_by(t.statements.c.id)
            .limit(1)
        )


def _hits(store, q, **extra):
    params = SearchParams(q=q, size=100, **extra)
    return [h.id for h in search(store, params.to_request(store)).hits]


def test_reword_keeps_the_id_and_the_earlier_wording(filled):
    sid = _some(filled)
    before, placements = filled.statement(sid)
    assert before.version == 1
    change = edit.reword(
        filled,
        sid,
        "Promote the zebra-crossing safety of migrants in transit.",
        expected_version=1,
        actor="ana",
        origin="test",
    )
    assert change is not None and change.kind == "reworded" and change.statement_id == sid
    assert change.before["text"] == before.text and change.after["version"] == 2
    after, placements_after = filled.statement(sid)
    assert after.version == 2 and after.text.startswith("Promote the zebra-crossing")
    assert len(placements_after) == len(placements)
    assert all("zebra-crossing" in p.printed_text for p in placements_after)
    hist = edit.history(filled, sid)
    assert [v.version for v in hist.versions] == [1, 2]
    assert hist.versions[0].text == before.text and hist.versions[1].actor == "ana"
    assert [e.action for e in hist.events] == ["statement.reword"]
    kinds = [k for k, _ in hist.entries]
    assert kinds == ["version", "version", "event"]
    # the search index follows: the new words are found, under the same id
    assert sid in _hits(filled, "zebra")
    # the same wording again changes nothing and records nothing
    same = edit.reword(filled, sid, after.text, expected_version=None, actor="ana", origin="test")
    assert same is None
    assert audit_trail(filled, obj=sid).total == 1


def test_a_stale_version_is_a_conflict_naming_who_changed_it(filled):
    sid = _some(filled)
    edit.reword(filled, sid, "A first new wording.", expected_version=1, actor="ana", origin="web")
    with pytest.raises(ConflictError, match=r"version 2, not 1.*statement.reword by ana"):
        edit.reword(filled, sid, "Another wording.", expected_version=1, actor="bo", origin="web")
    with pytest.raises(ConflictError, match="version 2"):
        edit.recategorise(filled, sid, "principle", expected_version=1, actor="bo", origin="web")
    assert filled.statement(sid)[0].text == "A first new wording."


def test_recategorise_is_curated_audited_and_searchable(filled):
    sid = _some(filled)
    old = filled.statement(sid)[0].category
    new = next(c for c in ("principle", "understanding", "commitment") if c != old)
    change = edit.recategorise(filled, sid, new, expected_version=None, actor="ana", origin="t")
    assert change is not None and (change.before, change.after) == (old, new)
    s = filled.statement(sid)[0]
    assert s.category.value == new and s.category_source.value == "curated"
    assert sid in _hits(filled, "", category=(new,))
    assert edit.recategorise(filled, sid, new, expected_version=None, actor="a", origin="t") is None
    with pytest.raises(BadInput, match="unknown category"):
        edit.recategorise(filled, sid, "wish", expected_version=None, actor="a", origin="t")


def test_replace_placements_appends_and_writes_notes(filled):
    sid = _some(filled)
    with filled.connection() as conn:
        last = conn.scalar(
            select(func.max(t.placements.c.position)).where(
                t.placements.c.theme == 6, t.placements.c.subtheme == 1
            )
        )
    change = edit.replace_placements(
        filled, sid, [(6, 1), (2, 1)], expected_version=None, actor="ana", origin="t"
    )
    assert change is not None and change.kind == "re-placed"
    _, placements = filled.statement(sid)
    assert sorted((p.theme, p.subtheme) for p in placements) == [(2, 1), (6, 1)]
    six = next(p for p in placements if p.theme == 6)
    assert six.position == (last or 0) + 1
    assert six.note == "*Statement also relevant for TS2*" and six.also_relevant == (2,)
    assert sid in _hits(filled, "", theme=("TS6",))
    with pytest.raises(BadInput, match=r"no sub-theme 9\.9"):
        edit.replace_placements(filled, sid, [(9, 9)], expected_version=None, actor="a", origin="t")
    with pytest.raises(BadInput, match="at least one"):
        edit.replace_placements(filled, sid, [], expected_version=None, actor="a", origin="t")


def test_objectives_are_curated(filled):
    sid = _some(filled)
    change = edit.set_objectives(filled, sid, [7, 3], expected_version=None, actor="a", origin="t")
    assert change is not None and change.after == [7, 3]
    with filled.connection() as conn:
        rows = conn.execute(
            select(t.statement_objectives).where(t.statement_objectives.c.statement_id == sid)
        ).all()
    assert sorted((r.objective, r.source, r.rank) for r in rows) == [
        (3, "curated", 2),
        (7, "curated", 1),
    ]
    with pytest.raises(BadInput, match="24 is not a GCM objective"):
        edit.set_objectives(filled, sid, [24], expected_version=None, actor="a", origin="t")


def test_retire_and_unretire(filled):
    sid = _some(filled)
    text = filled.statement(sid)[0].text
    word = max(text.split(), key=len).strip(".,;:")
    where = sorted((p.theme, p.subtheme) for p in filled.statement(sid)[1])
    assert sid in _hits(filled, word)
    change = edit.retire(filled, sid, expected_version=None, actor="ana", origin="t")
    assert change.kind == "retired"
    s, placements = filled.statement(sid)
    assert s.retired_at is not None and placements == []
    assert sid not in _hits(filled, word)
    assert sid in _hits(filled, word, retired="include")
    assert sid not in {x.id for x in filled.load().statements}
    with pytest.raises(ConflictError, match="already retired"):
        edit.retire(filled, sid, expected_version=None, actor="ana", origin="t")
    back = edit.unretire(filled, sid, expected_version=None, actor="ana", origin="t")
    assert back.kind == "unretired"
    s, placements = filled.statement(sid)
    assert s.retired_at is None and sorted((p.theme, p.subtheme) for p in placements) == where
    assert sid in _hits(filled, word)
    actions = [e.action for e in edit.history(filled, sid).events]
    assert actions == ["statement.retire", "statement.unretire"]


def test_errors_write_nothing(filled):
    sid = _some(filled)
    with pytest.raises(NotFound):
        edit.reword(filled, "XIX-9999", "x", expected_version=None, actor="a", origin="t")
    with pytest.raises(BadInput, match="empty"):
        edit.reword(filled, sid, "   ", expected_version=None, actor="a", origin="t")
    other = filled.statement(_some(filled, "XX"))[0]
    twin_meeting = filled.statement(sid)[0].meeting
    with filled.connection() as conn:
        twin = conn.scalar(
            select(t.statements.c.text)
            .where(t.statements.c.meeting == twin_meeting, t.statements.c.id != sid)
            .limit(1)
        )
    with pytest.raises(ConflictError, match="already has this wording"):
        edit.reword(filled, sid, twin, expected_version=None, actor="a", origin="t")
    assert other.version == 1
    assert audit_trail(filled, action="statement").total == 0
    assert filled.statement(sid)[0].version == 1


def test_many_edits_in_one_outer_transaction_roll_back_together(filled):
    sid = _some(filled)
    with pytest.raises(BadInput), filled.transaction() as conn:
        edit.reword_in(
            conn, sid, "Inside one transaction.", expected_version=None, actor="a", origin="t"
        )
        edit.recategorise_in(conn, sid, "wish", expected_version=None, actor="a", origin="t")
    s = filled.statement(sid)[0]
    assert s.version == 1 and s.text != "Inside one transaction."
    assert audit_trail(filled, action="statement").total == 0
