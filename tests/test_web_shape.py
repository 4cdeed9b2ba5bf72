"""The web is a thin shell (docs: DESIGN.md): no function in src/rcm/web over 80 lines, no SQL
there (neither sqlalchemy nor the store's schema), and every route in a router of its area."""

from __future__ import annotations

import ast
from pathlib import Path

import rcm.web

WEB = Path(rcm.web.__file__).parent
MAX_LINES = 80
FORBIDDEN = ("sqlalchemy", "rcm.store.schema")


def modules() -> list[tuple[Path, ast.Module]]:
    found = [(p, ast.parse(p.read_text(encoding="utf-8"))) for p in sorted(WEB.rglob("*.py"))]
    assert len(found) > 5
    return found


def long_functions(tree: ast.Module, path: Path) -> list[str]:
    return [
        f"{path.name}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_LINES
    ]


def sql_imports(tree: ast.Module, path: Path) -> list[str]:
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        found += [
            f"{path.name}:{node.lineno} {name}"
            for name in names
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
        ]
    return found


def test_no_function_of_the_web_is_over_80_lines():
    assert [f for path, tree in modules() for f in long_functions(tree, path)] == []


def test_the_web_holds_no_sql():
    assert [i for path, tree in modules() for i in sql_imports(tree, path)] == []


def test_the_checks_see_what_they_look_for():
    """The two checks above find what they are meant to (a test that cannot fail proves nothing)."""
    long = ast.parse("def f():\n" + "    x = 1\n" * MAX_LINES)
    assert long_functions(long, Path("x.py")) == ["x.py:1 f (81 lines)"]
    sql = ast.parse("from rcm.store import schema\nimport sqlalchemy.orm\nfrom rcm import store\n")
    assert sql_imports(sql, Path("x.py")) == [
        "x.py:1 rcm.store.schema",
        "x.py:2 sqlalchemy.orm",
    ]


def test_the_stylesheet_closes_every_block():
    """A rule block left open (a merge that drops one ``}``) silently swallows every rule after
    it in the browser: each ``{`` has its ``}``, and no top-level section starts inside a block."""
    import re

    css = re.sub(
        r"/\*.*?\*/",
        lambda m: "\n" * m.group(0).count("\n"),
        (WEB / "static" / "site.css").read_text(encoding="utf-8"),
        flags=re.S,
    )
    depth = 0
    for number, line in enumerate(css.splitlines(), 1):
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"site.css:{number} closes a block never opened"
        assert depth <= 2, f"site.css:{number} nests blocks {depth} deep"
    assert depth == 0, "site.css leaves a block open"
