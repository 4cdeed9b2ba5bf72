"""The long fuzzing run (`make fuzz`): every importer's fuzzing (tests/test_fuzz_importers.py), the
API's (tests/test_api_schemathesis.py) and the compilation parser's (tests/test_bad_input.py) under
the "fuzz" Hypothesis profile (10,000 examples), then how many examples each ran.

    .venv/bin/python bench/fuzz.py [--jobs N] [--json bench/results/fuzz.json] [pytest args …]
    .venv/bin/python bench/fuzz.py --merge PART.json … [--json OUT]

runs, with RCM_FUZZ_COUNTS set so that the tests write their counts,

    HYPOTHESIS_PROFILE=fuzz .venv/bin/python -m pytest tests/test_fuzz_importers.py \\
        tests/test_api_schemathesis.py tests/test_bad_input.py -q --hypothesis-show-statistics

PostgreSQL is fuzzed too when RCM_TEST_POSTGRES_URL is set. The counts come from the tests (per
importer and backend: examples, accepted, refused, crashes, partial writes) and, for the tests that
do not count (test_bad_input.py), from Hypothesis' statistics. The exit code is pytest's.

With --jobs N (`make fuzz` uses the machine's cores) the tests are split into N parts of about
equal expected length (longest first, from the durations in EXPECTED_MINUTES) run side by side,
each its own pytest; the parts' counts are added up into one report. --merge adds up reports
written by separate runs (say, one per `-k` selection) in the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FILES = [
    "tests/test_fuzz_importers.py",
    "tests/test_api_schemathesis.py",
    "tests/test_bad_input.py",
]
STATISTICS = re.compile(
    r"(\d+) passing(?: examples| test cases)?, (\d+) failing(?: examples| test cases)?, "
    r"and (\d+) invalid"
)
WHOLE_FILES = {"tests/test_api_schemathesis.py"}
# Expected minutes of each test under the fuzz profile on one core (measured on the project's
# machine), used only to balance the parts of a --jobs run; tests not named here count 0.5.
EXPECTED_MINUTES = {
    "test_compilation_docx_ingest[sqlite]": 42,
    "test_compilation_docx_ingest[postgresql]": 13,
    "test_compilation_text_ingest[sqlite]": 22,
    "test_compilation_text_ingest[postgresql]": 7,
    "test_questionnaire_import[sqlite]": 17,
    "test_questionnaire_import[postgresql]": 5,
    "test_questionnaire_import_damaged_bytes[sqlite]": 17,
    "test_questionnaire_size_bombs[sqlite]": 18,
    "test_questionnaire_size_bombs[postgresql]": 3,
    "test_declaration_add[sqlite]": 14,
    "test_declaration_add[postgresql]": 4,
    "test_random_corruptions_never_crash": 10,
    "test_declaration_reader": 5,
    "test_declaration_splitter": 3,
}


def hypothesis_statistics(output: str) -> dict[str, dict[str, int]]:
    """Per test: passing, failing and invalid examples over all phases, from the statistics that
    --hypothesis-show-statistics prints after the tests."""
    found: dict[str, dict[str, int]] = {}
    test: str | None = None
    _, _, section = output.partition("Hypothesis Statistics")
    for line in section.splitlines():
        if re.match(r"^\S+::\S.*:$", line):
            test = line[:-1]
            found.setdefault(test, {"passing": 0, "failing": 0, "invalid": 0})
        elif test and (m := STATISTICS.search(line)):
            for key, value in zip(("passing", "failing", "invalid"), m.groups(), strict=True):
                found[test][key] += int(value)
    return found


def collect(pytest_args: list[str]) -> list[str]:
    """The node ids the run would execute."""
    out = subprocess.run(
        [sys.executable, "-m", "pytest", *FILES, "-q", "--collect-only", *pytest_args],
        cwd=ROOT,
        env={**os.environ, "HYPOTHESIS_PROFILE": "fuzz"},
        capture_output=True,
        text=True,
        check=False,
    )
    ids = [line for line in out.stdout.splitlines() if "::" in line and not line.startswith(" ")]
    if out.returncode not in (0, 5) or not ids:
        sys.exit(f"fuzz.py: collecting the tests failed:\n{out.stdout}{out.stderr}")
    return ids


def expected(node: str) -> float:
    return EXPECTED_MINUTES.get(node.split("::", 1)[1], 0.5)


def partition(nodes: list[str], jobs: int) -> list[list[str]]:
    """Longest expected unit first into the part expected to finish first (greedy LPT). A unit is
    a test, or a whole file in WHOLE_FILES (schemathesis' tests cannot be named one by one)."""
    units: dict[str, float] = {}
    for node in nodes:
        path = node.split("::", 1)[0]
        unit = path if path in WHOLE_FILES else node
        units[unit] = units.get(unit, 0.0) + expected(node)
    parts: list[list[str]] = [[] for _ in range(jobs)]
    load = [0.0] * jobs
    for unit in sorted(units, key=lambda u: units[u], reverse=True):
        i = load.index(min(load))
        parts[i].append(unit)
        load[i] += units[unit]
    order = list(units)
    return [sorted(p, key=order.index) for p in parts if p]


def run_part(
    targets: list[str], pytest_args: list[str], prefix: str = "", profile: str = "fuzz"
) -> dict[str, Any]:
    """One pytest under the fuzz profile, its output shown as it comes, and its report."""
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "HYPOTHESIS_PROFILE": profile,
            "RCM_FUZZ_COUNTS": folder,
            "PYTHONUNBUFFERED": "1",  # pytest's progress as it comes, not when a buffer fills
        }
        command = [sys.executable, "-m", "pytest", *targets, "-q", "--hypothesis-show-statistics"]
        start = time.monotonic()
        lines: list[str] = []
        with subprocess.Popen(
            [*command, *pytest_args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        ) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                sys.stdout.write(prefix + line)
                lines.append(line)
        seconds = time.monotonic() - start
        importers: dict[str, dict[str, int]] = {}
        findings: list[dict[str, Any]] = []
        for path in sorted(Path(folder).glob("*.json")):
            part = json.loads(path.read_text(encoding="utf-8"))
            importers.update(part["importers"])
            findings += part["findings"]
    output = "".join(lines)
    statistics = hypothesis_statistics(output)
    for test, stats in statistics.items():
        if test.startswith("tests/test_bad_input.py"):
            name = f"compilation text parser: {test.split('::')[-1]} (Hypothesis statistics)"
            importers[name] = {"examples": stats["passing"] + stats["failing"], **stats}
    summary = next(
        (
            line.strip("= ")
            for line in reversed(output.splitlines())
            if re.search(r"\d+ (passed|failed|xfailed|error)", line)
        ),
        "",
    )
    return {
        "command": f"HYPOTHESIS_PROFILE={profile} python -m pytest "
        + " ".join([*targets, "-q", *pytest_args]),
        "started": started.isoformat(timespec="seconds"),
        "duration_s": round(seconds, 1),
        "pytest": {"exit_code": proc.returncode, "summary": summary},
        "xfailed": sorted(set(re.findall(r"^XFAIL (\S+)", output, re.M))),
        "importers": importers,
        "findings": findings,
        "hypothesis_statistics": statistics,
    }


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One report from the parts' (run side by side or one after another)."""
    single = parts[0] if len(parts) == 1 and "parts" not in parts[0] else {}
    importers: dict[str, dict[str, int]] = {}
    findings: list[dict[str, Any]] = []
    statistics: dict[str, dict[str, int]] = {}
    for part in parts:
        for name, tally in part["importers"].items():
            mine = importers.setdefault(name, {})
            for key, n in tally.items():
                mine[key] = mine.get(key, 0) + n
        findings += part["findings"]
        for test, stats in part["hypothesis_statistics"].items():
            mine = statistics.setdefault(test, {})
            for key, n in stats.items():
                mine[key] = mine.get(key, 0) + n
    starts = [datetime.fromisoformat(p["started"]) for p in parts]
    ends = [s + timedelta(seconds=p["duration_s"]) for s, p in zip(starts, parts, strict=True)]
    codes = [p["pytest"]["exit_code"] for p in parts]
    report: dict[str, Any] = {
        "command": single.get("command")
        or "bench/fuzz.py: the parts below, run side by side, their counts added up",
        "started": min(starts).isoformat(timespec="seconds"),
        "duration_s": round((max(ends) - min(starts)).total_seconds(), 1),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "postgresql": bool(os.environ.get("RCM_TEST_POSTGRES_URL")),
        "pytest": {
            "exit_code": next((c for c in codes if c), 0),
            "summary": "; ".join(p["pytest"]["summary"] for p in parts),
        },
        "xfailed": sorted({x for p in parts for x in p["xfailed"]}),
        "examples_total": sum(v.get("examples", 0) for v in importers.values()),
        "crashes": sum(v.get("crashes", 0) for v in importers.values()),
        "partial_writes": sum(v.get("partial_writes", 0) for v in importers.values()),
        "importers": dict(sorted(importers.items())),
        "findings": findings,
        "hypothesis_statistics": statistics,
    }
    if not single:
        report["parts"] = [
            {k: p[k] for k in ("command", "started", "duration_s", "pytest")} for p in parts
        ]
    return report


def _http(tally: dict[str, int], first_digit: str) -> int:
    return sum(n for key, n in tally.items() if key.startswith(f"HTTP {first_digit}"))


def show(report: dict[str, Any], path: str) -> None:
    importers = report["importers"]
    width = max((len(k) for k in importers), default=10)
    print(f"\n{'importer':<{width}}  {'examples':>9} {'accepted':>9} {'refused':>8}  crashes")
    for name, tally in importers.items():
        # The API's requests: accepted = 2xx, refused = 4xx.
        accepted = tally.get("accepted", _http(tally, "2"))
        refused = tally.get("refused", _http(tally, "4"))
        print(
            f"{name:<{width}}  {tally.get('examples', 0):>9,} {accepted:>9,} {refused:>8,}  "
            f"{tally.get('crashes', 0)}"
        )
    print(
        f"\n{report['examples_total']:,} examples in {report['duration_s'] / 60:.1f} min; crashes "
        f"{report['crashes']}, partial writes {report['partial_writes']}; pytest: "
        f"{report['pytest']['summary']}; written to {path}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "fuzz.json"))
    parser.add_argument("--jobs", type=int, default=1, help="parts run side by side (default 1)")
    parser.add_argument("--merge", nargs="+", metavar="PART", help="add up these reports instead")
    parser.add_argument(
        "--profile",
        default="fuzz",
        choices=["fuzz", "default"],
        help="Hypothesis profile: fuzz (10,000 examples) or default (the quick one of make test)",
    )
    args, pytest_args = parser.parse_known_args()
    if args.merge:
        parts = [json.loads(Path(p).read_text(encoding="utf-8")) for p in args.merge]
    elif args.jobs <= 1:
        parts = [run_part(FILES, pytest_args, profile=args.profile)]
    else:
        groups = partition(collect(pytest_args), args.jobs)
        parts = [{} for _ in groups]

        def work(i: int) -> None:
            parts[i] = run_part(groups[i], pytest_args, prefix=f"[{i + 1}] ", profile=args.profile)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(groups))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    report = merge(parts)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    show(report, args.json)
    return int(report["pytest"]["exit_code"])


if __name__ == "__main__":
    sys.exit(main())
