"""A short run of bench/load.py: the 11 focal points and the Secretariat at once against a real
`rcm serve --workers 2` (a subprocess on a free port), on SQLite and PostgreSQL. No 5xx, and every
acknowledged answer is stored exactly once: nothing lost, nothing duplicated."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "load.py"


@pytest.fixture(scope="module")
def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rcm_bench_load", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_concurrent_answers_are_neither_lost_nor_duplicated(load, db_url):
    record = load.Record()
    result = load.run(db_url, requests=24, workers=2, record=record, seed=7)
    assert result["errors_5xx"] == 0, load.summary(result)
    assert result["errors_other"] == {} and result["server_tracebacks"] == 0, load.summary(result)
    assert result["clients"] == 12 and result["requests"] == 12 * 24
    proof = result["proof"]
    assert (proof["lost"], proof["duplicated"], proof["mismatched"]) == (0, 0, 0), proof
    assert proof["acknowledged_writes"] == proof["history_rows"] == proof["opinion_audit_events"]
    assert proof["acknowledged_writes"] > 0 and proof["keys"] > 11
    assert result["ok"], load.summary(result)

    # The proof is not vacuous: a write acknowledged twice as the same version counts as lost, a
    # stored version nobody was told about counts as duplicated.
    url, rid, acks = load.database_url(db_url), result["round_id"], record.acks
    assert load.prove(url, rid, [*acks, acks[0]])["lost"] == 1
    last = max(acks, key=lambda a: (a.version, a.country, a.statement_id))
    assert load.prove(url, rid, [a for a in acks if a != last])["duplicated"] == 1
    changed = replace(last, comment="something else")
    assert load.prove(url, rid, [changed if a == last else a for a in acks])["mismatched"] >= 1
