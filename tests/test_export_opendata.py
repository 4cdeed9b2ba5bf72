"""The open-data formats, registered in rcm.export.registry: `rcm export --format sqlite` (a
database for Datasette and sqlite-utils, full-text indexed) and `--format datapackage` (a
Frictionless data package), read back."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import zipfile

import pytest
from click.testing import CliRunner

from rcm.cli import cli
from rcm.errors import RcmError
from rcm.export import registry
from rcm.export.opendata import TABLES
from rcm.parse import read_compilation
from rcm.store import Store
from rcm.suggest import label_compendium

PUBLISHED = {
    "statements", "items", "placements", "themes", "subthemes", "meetings", "categories",
    "gcm_links",
}  # fmt: skip


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory):
    """The real compilation, labelled as `rcm ingest` labels it. The exports read the compendium
    (``Store.load``), the same on both backends: SQLite is enough."""
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('db') / 'rcm.db'}", create=True)
    store.ingest(label_compendium(read_compilation()))
    yield store
    store.close()


def _export(store, *args: str) -> None:
    result = CliRunner().invoke(cli, ["--db", store.url, "export", *args])
    assert result.exit_code == 0, result.output


def test_both_formats_come_from_the_registry():
    names = [f.name for f in registry.formats()]
    assert {"json", "csv", "docx", "xlsx", "pdf", "sqlite", "datapackage"} <= set(names)
    assert registry.get_format("sqlite").media_type == "application/vnd.sqlite3"
    assert registry.get_format("datapackage").extension == "zip"
    assert [f.name for f in registry.formats("position")] == ["docx", "pdf"]
    with pytest.raises(RcmError, match="no compendium format 'parquet'"):
        registry.get_format("parquet")


def test_sqlite_export_for_datasette(sqlite_store, tmp_path):
    out = tmp_path / "rcm.db"
    _export(sqlite_store, "--format", "sqlite", "-o", str(out))
    compendium = sqlite_store.load()
    conn = sqlite3.connect(out)
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert names >= PUBLISHED
        # Nothing private: no accounts, sessions, opinions, drafts, failures or audit trail.
        assert not {n for n in names - PUBLISHED if not n.startswith("statements_fts")}
        assert conn.execute("SELECT count(*) FROM statements").fetchone()[0] == len(
            compendium.statements
        )
        assert conn.execute("SELECT count(*) FROM placements").fetchone()[0] == len(
            compendium.placements
        )
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        # The full-text index by sqlite-utils' conventions, on the plain text (not stems).
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name='statements_fts'").fetchone()
        assert "fts5" in sql[0].lower() and "content=[statements]" in sql[0]
        hits = conn.execute(
            "SELECT s.id, s.text FROM statements_fts JOIN statements s "
            "ON s.rowid = statements_fts.rowid WHERE statements_fts MATCH ? ",
            ["trafficking"],
        ).fetchall()
        assert len(hits) >= 20 and all("trafficking" in t.lower() for _, t in hits)
        assert conn.execute(
            "SELECT count(*) FROM statements_fts WHERE statements_fts MATCH 'traffick'"
        ).fetchone() == (0,)  # words as written, not stems
    finally:
        conn.close()
    meta = json.loads((tmp_path / "rcm.metadata.json").read_text())
    db = meta["databases"]["rcm"]
    assert db["source"] == compendium.source.name and "Regional Conference" in db["license"]
    for t in TABLES:
        assert set(db["tables"][t.name]["columns"]) == {f[0] for f in t.fields}


def test_datapackage_export_is_a_valid_frictionless_package(sqlite_store, tmp_path):
    from frictionless import Package, validate

    out = tmp_path / "rcm.zip"
    _export(sqlite_store, "--format", "datapackage", "-o", str(out))
    with zipfile.ZipFile(out) as z:
        z.extractall(tmp_path / "pkg")
    descriptor = tmp_path / "pkg" / "datapackage.json"
    report = validate(str(descriptor))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]
    package = Package(str(descriptor))
    assert {r.name for r in package.resources} == PUBLISHED
    statements = package.get_resource("statements")
    assert statements.schema.primary_key == ["id"]
    rows = statements.read_rows()
    assert len(rows) == len(sqlite_store.load().statements)
    placements = package.get_resource("placements").schema
    assert {
        "fields": ["statement_id"],
        "reference": {"resource": "statements", "fields": ["id"]},
    } in [fk for fk in placements.foreign_keys]


def test_search_csv_keeps_the_hits_order(sqlite_store):
    ids = [s.id for s in sqlite_store.load().statements[:5]][::-1]
    data, media, name = registry.export_selection(sqlite_store, "csv", ids, basename="x")
    assert media.startswith("text/csv") and name == "x.csv"
    assert [r["id"] for r in csv.DictReader(io.StringIO(data.decode()))] == ids


def test_datapackage_is_reproducible(sqlite_store):
    c = sqlite_store.load()
    assert registry.write_compendium(c, "datapackage") == registry.write_compendium(
        c, "datapackage"
    )
