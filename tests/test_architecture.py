"""The floors (docs/architecture.md): every module of rcm is on one floor of the import-linter
contract that `make lint` checks, and the document names each of them."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import rcm

ROOT = Path(__file__).resolve().parents[1]


def _floors() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = [c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    assert contract["type"] == "layers" and contract["containers"] == ["rcm"]
    return [name.strip() for floor in contract["layers"] for name in floor.split("|")]


def test_every_module_is_on_a_floor():
    modules = {m.name for m in pkgutil.iter_modules(rcm.__path__) if m.name != "__main__"}
    floors = _floors()
    assert len(floors) == len(set(floors))
    assert modules - {"py"} == set(floors), "put the new module on a floor (pyproject.toml)"


def test_the_architecture_document_names_every_floor():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for name in _floors():
        assert f"`rcm.{name}`" in text, name
    assert "lint-imports" in (ROOT / "Makefile").read_text(encoding="utf-8")


def test_the_core_writes_through_store_transaction():
    """One transaction helper (Store.transaction): no module outside the store opens its own."""
    src = ROOT / "src" / "rcm"
    for path in src.rglob("*.py"):
        if path.parent.name == "store" or "migrations" in path.parts:
            continue
        assert "engine.begin(" not in path.read_text(encoding="utf-8"), path


def test_exports_sit_above_the_core():
    """export/position.py and export/still_valid.py take their data from the core's functions:
    neither imports the Store."""
    for name in ("position.py", "still_valid.py"):
        text = (ROOT / "src" / "rcm" / "export" / name).read_text(encoding="utf-8")
        assert "rcm.store" not in text, name
