"""Schemathesis against the JSON API (issue 8): every operation of the in-process app's
/openapi.json, with requests generated from the schema (valid ones, and invalid ones: wrong types,
values out of range, missing and extra parameters), against a store holding the labelled
compilation, on SQLite and (with RCM_TEST_POSTGRES_URL) PostgreSQL.

Checks: no 5xx (``not_a_server_error``); the response conforms to what the schema declares for its
status (``response_schema_conformance``: the 200 bodies are declared as any JSON, so this checks
that the body is JSON) and its content type (``content_type_conformance``). Not checked, because
they do not hold by design: ``status_code_conformance`` (the API answers bad parameters with 400
and unknown ids with 404, which the schema does not list: it declares 200, and 422 which the API
never sends) and ``negative_data_rejection`` (the search drops empty values, as an HTML form sends
them, so 21 empty ``xref=`` are accepted although the schema allows at most 20 items).

Stateful testing chains operations through the links schemathesis infers between operations that
share a path parameter (a statement and its history): ``test_api_stateful``.

Examples: a few dozen per operation in `make test`; a tenth of the profile's (1,000) per operation
under HYPOTHESIS_PROFILE=fuzz (`make fuzz`). RCM_FUZZ_COUNTS=DIR writes the counts as JSON.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from rcm.parse import read_compilation
from rcm.store import Store
from rcm.web import create_app

PROFILE_EXAMPLES = settings().max_examples  # 300 by default, 10,000 under HYPOTHESIS_PROFILE=fuzz
EXAMPLES = PROFILE_EXAMPLES // 10 if PROFILE_EXAMPLES >= 10_000 else 60  # per operation
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]

COUNTS: defaultdict[str, Counter[str]] = defaultdict(Counter)


@pytest.fixture(scope="module", autouse=True)
def fuzz_counts() -> Iterator[None]:
    """With RCM_FUZZ_COUNTS=DIR, write this module's example counts for bench/fuzz.py."""
    yield
    folder = os.environ.get("RCM_FUZZ_COUNTS")
    if folder:
        report = {"importers": {k: dict(v) for k, v in sorted(COUNTS.items())}, "findings": []}
        Path(folder, f"{Path(__file__).stem}.json").write_text(
            json.dumps(report, indent=2) + "\n", encoding="utf-8"
        )


# The schema is read at import from /openapi.json of an app whose store is never queried (serving
# the schema reads no data); the requests go to an app on `loaded_store` (conftest: the labelled
# compilation, once per module, on SQLite and on PostgreSQL). schemathesis.pytest.from_fixture,
# which would load the schema from a fixture, does not run under pytest 9.2 (schemathesis 4.32
# sets the private `Function._nodeid`).
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(Store("sqlite://")))

# Values the data holds, mixed into half the generated requests: generated ids alone would almost
# never name a statement, a meeting or a sub-theme, and every such request would stop at its 404.
COMPENDIUM = read_compilation()
REAL_PATH_VALUES = {
    "statement_id": [s.id for s in COMPENDIUM.statements] + ["xix-0021", " XIX-0021", "XIX-"],
    "code": [m.code for m in COMPENDIUM.meetings] + ["19", "xix", "XIX RCM", "0", "XXII"],
    "number": [*range(0, 8), *range(0, 8), *range(-1, 26)],  # themes 1–6, GCM objectives 1–23
    "order": list(range(-1, 9)),
}
THEMES = st.sampled_from(["TS1", "TS2", "TS3", "TS4", "TS5", "TS6", "ts5", "5", "TS9", ""])
REAL_SEARCH = st.fixed_dictionaries(
    {},
    optional={
        "q": st.sampled_from(
            'trafficking|"human rights"|smuggl*|migrants -trafficking|return OR|the|NOT return'
            '|protection OR return|trata de personas|niños|"unbalanced'.split("|")
        ),
        "theme": st.lists(THEMES, max_size=3),
        "xref": st.lists(THEMES, max_size=2),
        "subtheme": st.lists(
            st.sampled_from(["TS3.2", "TS1.1", "TS6.9", "3.2", "TS3."]), max_size=2
        ),
        "category": st.lists(
            st.sampled_from(["principle", "understanding", "commitment", "unassigned", "x"]),
            max_size=2,
        ),
        # With the values of a finding this test made (a 500 from `meeting=0`, since fixed).
        "meeting": st.sampled_from(
            "XII|XII..XXI|..X|XII..|xix rcm|19|XXI..I|0|4000|²|0..3|XII..0|MMXLVIII".split("|")
        ),
        "year": st.sampled_from(["2005", "2005..2010", "..2000", "2016..", "1996..1996"]),
        "several": st.sampled_from(["yes", "no"]),
        "sort": st.sampled_from(["relevance", "oldest", "newest"]),
        "page": st.integers(1, 12),
        "size": st.integers(1, 100),
    },
)


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    if not path_parameters:
        return st.just(path_parameters)
    known = {k: st.sampled_from(REAL_PATH_VALUES[k]) for k in path_parameters}
    real = st.fixed_dictionaries({**{k: st.just(v) for k, v in path_parameters.items()}, **known})
    return st.one_of(st.just(path_parameters), real)


@schema.hook
def flatmap_query(context, query):
    if context.operation is None or context.operation.path != "/api/search":
        return st.just(query)
    return st.one_of(st.just(query), REAL_SEARCH.map(lambda real: {**(query or {}), **real}))


@pytest.fixture(scope="module")
def api_app(loaded_store):
    return create_app(loaded_store)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api(case, api_app, loaded_store):
    tally = COUNTS[f"api: {case.operation.label} [{loaded_store.dialect}]"]
    tally["examples"] += 1
    response = case.call(app=api_app)
    tally[f"HTTP {response.status_code}"] += 1
    case.validate_response(response, checks=CHECKS)


def test_api_stateful(api_app, loaded_store):
    """Schemathesis chains operations through the links it infers (a statement's id from
    /api/statements/{statement_id} to its /history, which share the path parameter): a state
    machine of requests sent to ``api_app``, under the same checks."""

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case):
            return {"app": api_app}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            COUNTS[f"stateful [{loaded_store.dialect}]"][f"HTTP {response.status_code}"] += 1
            case.validate_response(response, checks=CHECKS)

    Workflow.run(
        settings=settings(
            max_examples=max(10, EXAMPLES // 3),
            stateful_step_count=4,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
