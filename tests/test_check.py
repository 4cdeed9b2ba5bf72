"""`rcm check`: the compilation's self-contradictions, pinned from reading the document."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from rcm.check import check_compendium


def _by_line(compendium):
    return {p.line: p.statement_id for p in compendium.placements}


def test_findings_by_kind(compendium):
    kinds = Counter(f.kind for f in check_compendium(compendium))
    assert kinds == {
        "placed-without-note": 13,
        "notes-disagree": 6,
        "note-names-unplaced-theme": 5,
        "meeting-order": 2,
        "source-notice": 2,
    }


def test_notes_naming_themes_the_statement_is_not_under(compendium):
    found = {
        (f.lines[0], f.theme)
        for f in check_compendium(compendium)
        if f.kind == "note-names-unplaced-theme"
    }
    assert found == {
        (181, 5),  # NGOs (I RCM): TS2 copy says TS5; filed under TS1 and TS2 only
        (106, 5), (173, 5), (226, 5),  # "Encourage States of the region…": every copy names TS5
        (343, 3),  # "*Statement also relevant for ST3*", not filed under TS3
    }  # fmt: skip


def test_placements_no_note_names(compendium):
    found = {
        (f.lines[0], f.theme)
        for f in check_compendium(compendium)
        if f.kind == "placed-without-note"
    }
    assert found == {
        (181, 1),  # NGOs: TS2 copy does not name TS1
        (106, 2), (173, 1), (226, 2),  # "Encourage States": filed under TS1, TS2, TS3
        (127, 5),  # IX RCM "Urge member countries…": TS1 copy has no note, also under TS5
        (151, 6), (378, 1),  # XXI RCM "We reiterate our commitment…": two copies, no notes
        (156, 2), (156, 3), (156, 4), (156, 5), (156, 6),  # I RCM "Promote a better understanding…"
        (157, 3),  # VI RCM consulates: TS1 copy names TS5 only, also under TS3
    }  # fmt: skip


def test_rows_out_of_meeting_order(compendium):
    by_line = _by_line(compendium)
    found = [f for f in check_compendium(compendium) if f.kind == "meeting-order"]
    assert [(f.lines, f.statement_ids[1]) for f in found] == [
        ((158, 161), by_line[161]),  # VI RCM after VII RCM
        ((374, 375), by_line[375]),  # IV RCM after XVII RCM
    ]


def test_every_finding_names_statements_or_lines(compendium):
    for f in check_compendium(compendium):
        assert f.lines
        if f.kind != "source-notice":
            assert f.statement_ids
            assert all(sid in {s.id for s in compendium.statements} for sid in f.statement_ids)


def test_near_copies_are_reported_not_merged(compendium):
    assert not [f for f in check_compendium(compendium) if f.kind == "possible-copy"]
    original = next(s for s in compendium.statements if s.meeting == "XII")
    variant = replace(original, id="XII-9999", text=original.text.replace("the", "a", 1))
    altered = replace(
        compendium,
        statements=[*compendium.statements, variant],
        placements=[
            *compendium.placements,
            replace(compendium.placements_of(original.id)[0], statement_id="XII-9999", position=99),
        ],
    )
    near = [f for f in check_compendium(altered) if f.kind == "possible-copy"]
    assert [set(f.statement_ids) for f in near] == [{original.id, "XII-9999"}]
