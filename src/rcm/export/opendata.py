"""The compendium as open data: the tables of ``rcm export --format sqlite`` (a database for
Datasette and sqlite-utils) and ``--format datapackage`` (a Frictionless data package), defined
once here. Only the published compendium goes out: statements, their items and placements, the
themes, sub-themes, meetings, categories and GCM links. Never accounts, sessions, opinions,
drafts, login failures or the audit trail: they are not even read (the writers take a
:class:`~rcm.model.Compendium`, which holds none of them)."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rcm.export.cells import csv_text
from rcm.model import Compendium

__all__ = ["TABLES", "Table", "datapackage_zip", "datasette_metadata", "sqlite_database"]

# The source states no licence: say so, rather than claim one.
LICENCE = (
    "Licence not stated by the source. The statements are public documents of the Regional "
    "Conference on Migration (RCM, Puebla Process); the compilation they come from is named in "
    "`source`. The software that wrote this file is MIT-licensed."
)

# (name, Table Schema type, description)
Field = tuple[str, str, str]


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[tuple[tuple[str, ...], str, tuple[str, ...]], ...]  # fields -> table.fields
    rows: Callable[[Compendium], list[tuple[Any, ...]]]
    fts: tuple[str, ...] = ()  # columns of the full-text index (sqlite)


def _statement_rows(c: Compendium) -> list[tuple[Any, ...]]:
    return [
        (
            s.id,
            s.meeting,
            s.heading,
            s.text,
            s.lang,
            s.text_es,
            s.category.value if s.category else None,
            s.category_source.value if s.category_source else None,
            s.category_confidence,
        )
        for s in c.statements
    ]


TABLES: tuple[Table, ...] = (
    Table(
        "categories",
        "The categories a statement may have (commitment, recommendation, ...).",
        (
            ("name", "string", "The category's name, as in statements.category"),
            ("label", "string", "Its label in the compilation"),
            ("definition", "string", "What a statement of this category does"),
        ),
        ("name",),
        (),
        lambda c: [(ci.category.value, ci.label, ci.definition) for ci in c.categories],
    ),
    Table(
        "meetings",
        "The Vice-Ministerial meetings of the RCM whose statements the compendium holds.",
        (
            ("code", "string", 'The key: "XIX" for XIX RCM, "XIX-E1" for an extraordinary one'),
            ("number", "integer", "The meeting's number (19 for XIX RCM)"),
            ("label", "string", 'As the compilation names it, e.g. "XIX RCM"'),
            ("year", "integer", "The year it was held"),
            ("kind", "string", "regular or extraordinary"),
            ("place", "string", "Where it was held"),
            ("date", "string", "When it was held, as the source gives it"),
        ),
        ("code",),
        (),
        lambda c: [
            (m.code, m.number, m.label, m.year, m.kind.value, m.place, m.date) for m in c.meetings
        ],
    ),
    Table(
        "themes",
        "The compilation's themes (TS1 to TS6).",
        (
            ("number", "integer", "The theme's number: 5 for TS5"),
            ("code", "string", 'Its code, e.g. "TS5"'),
            ("title", "string", "Its title"),
            ("un_title", "string", "The matching United Nations wording"),
            ("consultation", "string", "The consultation note of the theme"),
        ),
        ("number",),
        (),
        lambda c: [(t.number, t.code, t.title, t.un_title, t.consultation) for t in c.themes],
    ),
    Table(
        "subthemes",
        "The sub-themes of each theme, in the compilation's order.",
        (
            ("theme", "integer", "The theme's number"),
            ("position", "integer", "The sub-theme's order within its theme: 2 for TS5.2"),
            ("title", "string", "Its title"),
            ("page", "integer", "Its page in the compilation"),
        ),
        ("theme", "position"),
        ((("theme",), "themes", ("number",)),),
        lambda c: [(s.theme, s.order, s.title, s.page) for t in c.themes for s in t.subthemes],
    ),
    Table(
        "statements",
        "Every statement of the RCM's declarations, as the compilation gives it.",
        (
            ("id", "string", 'The statement\'s identifier, e.g. "XIX-0021"'),
            ("meeting", "string", "The meeting that adopted it (meetings.code)"),
            ("heading", "string", "The heading of a list statement (its items: table items)"),
            ("text", "string", "The plain text of the statement (a list's heading and items)"),
            ("lang", "string", "The language of text (en or es)"),
            ("text_es", "string", "The Spanish text, where known"),
            ("category", "string", "Its category (categories.name), where assigned"),
            ("category_source", "string", "curated (a person's) or suggested (a program's)"),
            ("category_confidence", "number", "The suggester's confidence, for a suggestion"),
        ),
        ("id",),
        ((("meeting",), "meetings", ("code",)), (("category",), "categories", ("name",))),
        _statement_rows,
        fts=("text", "heading"),
    ),
    Table(
        "items",
        "The entries of list statements, in order.",
        (
            ("statement_id", "string", "The statement (statements.id)"),
            ("position", "integer", "The entry's place in the list, from 1"),
            ("text", "string", "The entry's text"),
        ),
        ("statement_id", "position"),
        ((("statement_id",), "statements", ("id",)),),
        lambda c: [(s.id, i, x) for s in c.statements for i, x in enumerate(s.items, 1)],
    ),
    Table(
        "placements",
        "Where the compilation files each statement: a row of a sub-theme's table.",
        (
            ("statement_id", "string", "The statement (statements.id)"),
            ("theme", "integer", "The theme's number"),
            ("subtheme", "integer", "The sub-theme's order within the theme"),
            ("position", "integer", "The row in that sub-theme's table, from 1"),
            ("also_relevant", "string", "Other themes named as relevant, e.g. TS3 TS6"),
            ("also_relevant_all", "boolean", "Relevant to every theme"),
            ("note", "string", "The compilation's note on the row"),
            ("line", "integer", "The line of the source where the row is"),
        ),
        ("statement_id", "theme", "subtheme", "position"),
        (
            (("statement_id",), "statements", ("id",)),
            (("theme", "subtheme"), "subthemes", ("theme", "position")),
        ),
        lambda c: [
            (
                p.statement_id,
                p.theme,
                p.subtheme,
                p.position,
                " ".join(f"TS{t}" for t in p.also_relevant),
                p.also_relevant_all,
                p.note,
                p.line,
            )
            for p in c.placements
        ],
    ),
    Table(
        "gcm_links",
        "Links of statements to the objectives of the Global Compact for Migration (GCM).",
        (
            ("statement_id", "string", "The statement (statements.id)"),
            ("objective", "integer", "The GCM objective's number (1 to 23)"),
            ("source", "string", "curated (a person's) or suggested (a program's)"),
            ("rank", "integer", "1 for the most central objective of the statement"),
            ("score", "number", "The linker's score, for a suggested link"),
        ),
        ("statement_id", "objective"),
        ((("statement_id",), "statements", ("id",)),),
        lambda c: [
            (x.statement_id, x.objective, x.source.value, x.rank, x.score)
            for x in c.objective_links
        ],
    ),
)

_SQL_TYPES = {"string": "TEXT", "integer": "INTEGER", "number": "REAL", "boolean": "INTEGER"}


def _source(c: Compendium) -> dict[str, Any]:
    return {
        "name": c.source.name,
        "sha256": c.source.sha256,
        "title": c.source.title,
        "date": c.source.date,
    }


def datasette_metadata(c: Compendium, database: str = "rcm") -> dict[str, Any]:
    """Datasette's metadata for the database: source, licence, and every column described."""
    title = c.source.title or c.source.name
    return {
        "title": "RCM Compendium",
        "description": f"The statements of the Regional Conference on Migration, from {title}.",
        "source": c.source.name,
        "license": LICENCE,
        "databases": {
            database: {
                "source": c.source.name,
                "license": LICENCE,
                "tables": {
                    t.name: {
                        "description": t.description,
                        "columns": {name: text for name, _, text in t.fields},
                    }
                    for t in TABLES
                },
            }
        },
    }


def sqlite_database(c: Compendium) -> bytes:
    """The database file: one table per :data:`TABLES` entry, with primary and foreign keys, and a
    full-text index of the statements' plain text by sqlite-utils' conventions (an FTS5 table
    ``statements_fts`` with ``content="statements"``, searchable with ``MATCH`` and by Datasette's
    search box). A static file: built once, no triggers."""
    fd, path = tempfile.mkstemp(suffix=".db")
    os.close(fd)
    try:
        conn = sqlite3.connect(path)
        try:
            with conn:
                for t in TABLES:
                    columns = [f"[{n}] {_SQL_TYPES[kind]}" for n, kind, _ in t.fields]
                    keys = [f"PRIMARY KEY ({', '.join(t.primary_key)})"]
                    for mine, other, theirs in t.foreign_keys:
                        keys.append(
                            f"FOREIGN KEY ({', '.join(mine)}) REFERENCES [{other}] "
                            f"({', '.join(theirs)})"
                        )
                    conn.execute(f"CREATE TABLE [{t.name}] ({', '.join(columns + keys)})")
                    marks = ", ".join("?" * len(t.fields))
                    conn.executemany(f"INSERT INTO [{t.name}] VALUES ({marks})", t.rows(c))
                    if t.fts:
                        cols = ", ".join(f"[{x}]" for x in t.fts)
                        conn.execute(
                            f"CREATE VIRTUAL TABLE [{t.name}_fts] USING FTS5 ({cols}, "
                            f"content=[{t.name}])"
                        )
                        conn.execute(
                            f"INSERT INTO [{t.name}_fts] (rowid, {cols}) "
                            f"SELECT rowid, {cols} FROM [{t.name}]"
                        )
        finally:
            conn.close()
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.unlink(path)


def _schema(t: Table) -> dict[str, Any]:
    return {
        "fields": [{"name": n, "type": kind, "description": text} for n, kind, text in t.fields],
        "primaryKey": list(t.primary_key),
        "foreignKeys": [
            {"fields": list(mine), "reference": {"resource": other, "fields": list(theirs)}}
            for mine, other, theirs in t.foreign_keys
        ],
        "missingValues": [""],
    }


def _csv_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def datapackage_zip(c: Compendium) -> bytes:
    """A Frictionless data package as one .zip: ``datapackage.json`` and one CSV file per table
    under ``data/``, each described by a Table Schema with its primary and foreign keys. The CSV
    files are written as every CSV of the project (``rcm.export.cells.csv_text``)."""
    descriptor = {
        "profile": "tabular-data-package",
        "name": "rcm-compendium",
        "title": "RCM Compendium",
        "description": "The statements of the Regional Conference on Migration (Puebla Process).",
        "licenses": [{"name": "notspecified", "title": LICENCE}],
        "sources": [{"title": c.source.title or c.source.name, "path": c.source.name}],
        "rcm_source": _source(c),
        "resources": [
            {
                "name": t.name,
                "path": f"data/{t.name}.csv",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "description": t.description,
                "schema": _schema(t),
            }
            for t in TABLES
        ],
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:

        def put(name: str, text: str) -> None:
            # A fixed date: the same compendium gives the same bytes.
            z.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), text, zipfile.ZIP_DEFLATED)

        put("datapackage.json", json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n")
        for t in TABLES:
            rows = [[_csv_value(v) for v in row] for row in t.rows(c)]
            put(f"data/{t.name}.csv", csv_text([n for n, _, _ in t.fields], rows))
    return out.getvalue()
