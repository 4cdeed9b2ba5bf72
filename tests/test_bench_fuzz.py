"""bench/fuzz.py's bookkeeping (the long run itself is `make fuzz`): the parts of a --jobs run
cover every test exactly once, and the parts' counts add up without loss or double counting."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench" / "fuzz.py"


@pytest.fixture(scope="module")
def fuzz() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rcm_bench_fuzz", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_parts_cover_every_test_once_and_balance(fuzz):
    nodes = fuzz.collect([])
    assert any("test_compilation_docx_ingest[sqlite]" in n for n in nodes)
    parts = fuzz.partition(nodes, 2)
    assert len(parts) == 2
    units = [u for p in parts for u in p]
    assert len(units) == len(set(units))
    # Every collected test is in exactly one part, named or inside a whole file.
    for node in nodes:
        owners = [u for u in units if node == u or node.startswith(u + "::")]
        assert len(owners) == 1, node
    # schemathesis' generated tests cannot be named one by one: their file goes whole.
    assert "tests/test_api_schemathesis.py" in units
    assert not any(u.startswith("tests/test_api_schemathesis.py::") for u in units)

    def minutes(part):
        return sum(
            fuzz.expected(n) for n in nodes if any(n == u or n.startswith(u + "::") for u in part)
        )

    total = sum(fuzz.expected(n) for n in nodes)
    # Greedy longest-first: no part exceeds the ideal share by more than the longest test.
    assert max(minutes(p) for p in parts) <= total / 2 + max(fuzz.EXPECTED_MINUTES.values())
    assert sorted(fuzz.partition(nodes, 1)[0]) == sorted(units)


STATS = """
============================ Hypothesis Statistics =============================
tests/test_bad_input.py::test_random_corruptions_never_crash:

  - during generate phase (812.31 seconds):
    - Typical runtimes: ~ 60-90 ms, of which ~ 1ms in data generation
    - 9990 passing examples, 0 failing examples, and 10 invalid examples
  - during shrink phase (0.01 seconds):
    - 2 passing examples, 1 failing examples, and 0 invalid examples
  - Stopped because settings.max_examples=10000
"""


def test_hypothesis_statistics_are_read(fuzz):
    found = fuzz.hypothesis_statistics(STATS)
    assert found == {
        "tests/test_bad_input.py::test_random_corruptions_never_crash": {
            "passing": 9992,
            "failing": 1,
            "invalid": 10,
        }
    }


def part(started, seconds, importers, code=0, stats=None):
    return {
        "command": "HYPOTHESIS_PROFILE=fuzz python -m pytest x -q",
        "started": started,
        "duration_s": seconds,
        "pytest": {"exit_code": code, "summary": "3 passed in 1.00s"},
        "xfailed": [],
        "importers": importers,
        "findings": [{"importer": "q", "kind": "crash", "what": "TypeError", "examples": 2}]
        if code
        else [],
        "hypothesis_statistics": stats or {},
    }


def test_merge_adds_up_parts_run_side_by_side(fuzz, tmp_path):
    a = part(
        "2026-11-28T21:00:00+00:00",
        600.0,
        {"compilation text (sqlite)": {"examples": 10_000, "accepted": 10, "refused": 9_990}},
    )
    b = part(
        "2026-11-28T21:00:05+00:00",
        900.0,
        {
            "questionnaire (sqlite)": {"examples": 10_000, "crashes": 2, "partial_writes": 0},
            "compilation text (sqlite)": {"examples": 5, "accepted": 5},
        },
        code=1,
        stats={"t::x": {"passing": 4, "failing": 0, "invalid": 1}},
    )
    merged = fuzz.merge([a, b])
    assert merged["importers"]["compilation text (sqlite)"] == {
        "examples": 10_005,
        "accepted": 15,
        "refused": 9_990,
    }
    assert merged["examples_total"] == 20_005
    assert merged["crashes"] == 2 and merged["partial_writes"] == 0
    assert merged["pytest"]["exit_code"] == 1  # one failing part fails the run
    assert merged["duration_s"] == 905.0  # wall clock: first start to last end
    assert len(merged["parts"]) == 2 and len(merged["findings"]) == 1
    assert merged["hypothesis_statistics"] == {"t::x": {"passing": 4, "failing": 0, "invalid": 1}}
    # The same through the command line, from the parts' files.
    files = []
    for i, p in enumerate((a, b)):
        files.append(tmp_path / f"{i}.json")
        files[-1].write_text(json.dumps(p), encoding="utf-8")
    out = tmp_path / "fuzz.json"
    run = subprocess.run(
        [sys.executable, str(BENCH), "--merge", *map(str, files), "--json", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1, run.stderr
    assert "20,005 examples" in run.stdout and "crashes 2" in run.stdout
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written["importers"] == merged["importers"]
    # A single run's report is kept as it is (no "parts").
    assert "parts" not in fuzz.merge([a])


def test_a_run_in_two_parts_end_to_end(tmp_path):
    """bench/fuzz.py --jobs 2 for real, under the quick profile and on a few fast tests: two
    pytest processes side by side, their counts added up into one report."""
    out = tmp_path / "fuzz.json"
    run = subprocess.run(
        [sys.executable, str(BENCH), "--jobs", "2", "--profile", "default", "--json", str(out),
         "-p", "no:cacheprovider", "-k", "declaration_splitter or bare_number or empty_file"],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert len(report["parts"]) == 2
    assert all(p["pytest"]["exit_code"] == 0 for p in report["parts"])
    assert all(p["command"].startswith("HYPOTHESIS_PROFILE=default ") for p in report["parts"])
    assert report["importers"]["declaration splitter: split_declaration"]["examples"] == 300
    assert report["crashes"] == 0 and report["partial_writes"] == 0
    assert "[1] " in run.stdout and "[2] " in run.stdout  # each part's output, labelled
