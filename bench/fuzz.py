"""The long fuzzing run (`make fuzz`): every importer's fuzzing (tests/test_fuzz_importers.py), the
API's (tests/test_api_schemathesis.py) and the compilation parser's (tests/test_bad_input.py) under
the "fuzz" Hypothesis profile (10,000 examples), then how many examples each ran.

    .venv/bin/python bench/fuzz.py [--json bench/results/fuzz.json] [pytest arguments …]

runs, with RCM_FUZZ_COUNTS set so that the tests write their counts,

    HYPOTHESIS_PROFILE=fuzz .venv/bin/python -m pytest tests/test_fuzz_importers.py \\
        tests/test_api_schemathesis.py tests/test_bad_input.py -q --hypothesis-show-statistics

PostgreSQL is fuzzed too when RCM_TEST_POSTGRES_URL is set. The counts come from the tests (per
importer and backend: examples, accepted, refused, crashes, partial writes) and, for the tests that
do not count (test_bad_input.py), from Hypothesis' statistics. The exit code is pytest's.
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
import time
from datetime import UTC, datetime
from pathlib import Path

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


def run(pytest_args: list[str], counts: Path) -> tuple[int, str, float]:
    """pytest under the fuzz profile, its output shown as it comes and kept."""
    env = {**os.environ, "HYPOTHESIS_PROFILE": "fuzz", "RCM_FUZZ_COUNTS": str(counts)}
    command = [sys.executable, "-m", "pytest", *FILES, "-q", "--hypothesis-show-statistics"]
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
            sys.stdout.write(line)
            lines.append(line)
    return proc.returncode, "".join(lines), time.monotonic() - start


def _http(tally: dict[str, int], first_digit: str) -> int:
    return sum(n for key, n in tally.items() if key.startswith(f"HTTP {first_digit}"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "fuzz.json"))
    args, pytest_args = parser.parse_known_args()
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as folder:
        code, output, seconds = run(pytest_args, Path(folder))
        importers: dict[str, dict[str, int]] = {}
        findings: list[dict[str, object]] = []
        for path in sorted(Path(folder).glob("*.json")):
            part = json.loads(path.read_text(encoding="utf-8"))
            importers.update(part["importers"])
            findings += part["findings"]
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
    report = {
        "command": "HYPOTHESIS_PROFILE=fuzz python -m pytest " + " ".join(FILES) + " -q",
        "started": started.isoformat(timespec="seconds"),
        "duration_s": round(seconds, 1),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "postgresql": bool(os.environ.get("RCM_TEST_POSTGRES_URL")),
        "pytest": {"exit_code": code, "summary": summary},
        "xfailed": sorted(set(re.findall(r"^XFAIL (\S+)", output, re.M))),
        "examples_total": sum(v.get("examples", 0) for v in importers.values()),
        "crashes": sum(v.get("crashes", 0) for v in importers.values()),
        "partial_writes": sum(v.get("partial_writes", 0) for v in importers.values()),
        "importers": dict(sorted(importers.items())),
        "findings": findings,
        "hypothesis_statistics": statistics,
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    width = max((len(k) for k in importers), default=10)
    print(f"\n{'importer':<{width}}  {'examples':>9} {'accepted':>9} {'refused':>8}  crashes")
    for name, tally in report["importers"].items():
        # The API's requests: accepted = 2xx, refused = 4xx.
        accepted = tally.get("accepted", _http(tally, "2"))
        refused = tally.get("refused", _http(tally, "4"))
        print(
            f"{name:<{width}}  {tally.get('examples', 0):>9,} {accepted:>9,} {refused:>8,}  "
            f"{tally.get('crashes', 0)}"
        )
    print(
        f"\n{report['examples_total']:,} examples in {seconds / 60:.1f} min; crashes "
        f"{report['crashes']}, partial writes {report['partial_writes']}; pytest: {summary}; "
        f"written to {args.json}"
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
