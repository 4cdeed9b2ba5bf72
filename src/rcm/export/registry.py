"""The one registry of export formats: a name, its writer, media type and file extension.

``rcm export --format NAME`` offers every format of the ``compendium`` document; ``rcm round
report`` the formats of the ``position`` document and ``rcm round questionnaire`` the one of the
``questionnaire``; the web's ``/search.{ext}`` downloads call :func:`export_selection`. A new
format is a writer and one :func:`register` call (see docs/architecture.md)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from rcm.errors import RcmError
from rcm.model import Compendium
from rcm.store import Store

__all__ = [
    "FORMATS",
    "Format",
    "check_language",
    "export_selection",
    "formats",
    "get_format",
    "register",
    "write_compendium",
]

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Format:
    name: str
    extension: str  # without the dot
    media_type: str
    # compendium: write(compendium, sentence=..., still_valid=..., lang=...); position:
    # write(store, round_id, lang=...); questionnaire: write(store, round_id, country, lang=...).
    write: Callable[..., bytes]
    help: str
    document: str = "compendium"
    text: bool = False  # text (UTF-8) rather than a binary file
    # Written in English or Spanish (``lang="es"``); the data formats are in no language.
    languages: tuple[str, ...] = ("en",)
    ranked: bool = False  # keeps the order of a search's hits (the others: document order)
    # Files written beside the output FILE (``rcm export -o FILE``): (compendium, FILE's stem) ->
    # {file name: data}.
    beside: Callable[[Compendium, str], dict[str, bytes]] | None = None


#: (document, name) -> Format
FORMATS: dict[tuple[str, str], Format] = {}


def register(fmt: Format) -> Format:
    """Add a format to the registry (a later registration of the same name replaces it)."""
    FORMATS[(fmt.document, fmt.name)] = fmt
    return fmt


def formats(document: str = "compendium") -> list[Format]:
    """The formats of a document, in the order they were registered."""
    return [f for (d, _), f in FORMATS.items() if d == document]


def get_format(name: str, document: str = "compendium") -> Format:
    try:
        return FORMATS[(document, name)]
    except KeyError:
        names = ", ".join(f.name for f in formats(document))
        raise RcmError(f"no {document} format {name!r}: one of {names}") from None


def write_compendium(c: Compendium, name: str, **options: Any) -> bytes:
    """The compendium (or a part of it) in a registered format."""
    return get_format(name).write(c, **options)


def export_selection(
    store: Store,
    fmt_name: str,
    ids: Sequence[str] | None = None,
    sentence: str = "",
    basename: str = "rcm-compendium",
    lang: str = "en",
) -> tuple[bytes, str, str]:
    """A search's result (statement ids, best first) or the whole compendium in a registered
    format: ``(data, media type, file name)``, for a download. ``lang``: the document's language
    where the format has one (the page's, on the web); the others ignore it."""
    from rcm.export.docx import Selection, narrow

    fmt = get_format(fmt_name)
    c = store.load()
    if ids is not None:
        c = narrow(c, Selection(statement_ids=frozenset(ids), sentence=sentence))
        if fmt.ranked:
            rank = {sid: i for i, sid in enumerate(ids)}
            c = replace(c, statements=sorted(c.statements, key=lambda s: rank[s.id]))
    options: dict[str, Any] = {"sentence": sentence}
    if lang in fmt.languages and lang != "en":
        options["lang"] = lang
    data = fmt.write(c, **options)
    return data, fmt.media_type, f"{basename}.{fmt.extension}"


def check_language(fmt: Format, lang: str) -> None:
    """Refuse a language a format is not written in (JSON has no language, for one)."""
    if lang not in fmt.languages:
        langs = ", ".join(
            f.name for f in FORMATS.values() if "es" in f.languages and f.document == fmt.document
        )
        raise RcmError(
            f"the {fmt.name} format has no language to choose: --lang {lang} is for {langs}"
        )


# --- the formats ----------------------------------------------------------------------------------


def _json(c: Compendium, **_: Any) -> bytes:
    from rcm.export import to_json

    return to_json(c).encode()


def _csv(c: Compendium, **_: Any) -> bytes:
    from rcm.export import to_csv

    return to_csv(c).encode()


def _docx(
    c: Compendium, sentence: str = "", still_valid: Any = None, lang: str = "en", **_: Any
) -> bytes:
    from rcm.export.docx import compilation_docx

    return compilation_docx(
        c,
        selection=sentence or None,
        still_valid=still_valid.lines if still_valid else None,
        still_valid_heading=still_valid.heading if still_valid else None,
        lang=lang,
    )


def _pdf(c: Compendium, **options: Any) -> bytes:
    from rcm.export.pdf import docx_to_pdf

    return docx_to_pdf(_docx(c, **options))


def _xlsx(c: Compendium, lang: str = "en", **_: Any) -> bytes:
    from rcm.export.xlsx import compendium_xlsx

    return compendium_xlsx(c, lang=lang)


def _sqlite(c: Compendium, **_: Any) -> bytes:
    from rcm.export.opendata import sqlite_database

    return sqlite_database(c)


def _sqlite_metadata(c: Compendium, stem: str) -> dict[str, bytes]:
    import json

    from rcm.export.opendata import datasette_metadata

    data = json.dumps(datasette_metadata(c, stem), ensure_ascii=False, indent=2) + "\n"
    return {f"{stem}.metadata.json": data.encode()}


def _datapackage(c: Compendium, **_: Any) -> bytes:
    from rcm.export.opendata import datapackage_zip

    return datapackage_zip(c)


def _position_docx(store: Store, round_id: int, lang: str = "en") -> bytes:
    from rcm import consult
    from rcm.export.position import position_docx

    return position_docx(consult.position_document(store, round_id), lang=lang)


def _position_pdf(store: Store, round_id: int, lang: str = "en") -> bytes:
    from rcm.export.pdf import docx_to_pdf

    return docx_to_pdf(_position_docx(store, round_id, lang))


def _questionnaire(store: Store, round_id: int, country: str, lang: str = "en") -> bytes:
    from rcm.export.questionnaire import write_questionnaire

    return write_questionnaire(store, round_id, country, lang=lang)


_J, _C = "the rcm-compendium/1 document", "one row per statement"
register(Format("json", "json", "application/json", _json, _J, text=True, ranked=True))
register(Format("csv", "csv", "text/csv; charset=utf-8", _csv, _C, text=True, ranked=True))
_EN_ES = ("en", "es")
register(
    Format("docx", "docx", DOCX, _docx, "the compilation as a Word document", languages=_EN_ES)
)
register(Format("xlsx", "xlsx", XLSX, _xlsx, "one sheet per theme", languages=_EN_ES))
register(
    Format(
        "pdf",
        "pdf",
        "application/pdf",
        _pdf,
        "the Word document as PDF (LibreOffice)",
        languages=_EN_ES,
    )
)
register(
    Format(
        "sqlite",
        "db",
        "application/vnd.sqlite3",
        _sqlite,
        "a SQLite database for Datasette and sqlite-utils, full-text indexed "
        "(with -o NAME.db, its Datasette metadata beside it: NAME.metadata.json)",
        beside=_sqlite_metadata,
    )
)
register(
    Format(
        "datapackage",
        "zip",
        "application/zip",
        _datapackage,
        "a Frictionless data package (.zip: datapackage.json and one CSV per table)",
    )
)
register(
    Format("docx", "docx", DOCX, _position_docx, "Word", document="position", languages=_EN_ES)
)
register(
    Format(
        "pdf",
        "pdf",
        "application/pdf",
        _position_pdf,
        "PDF (LibreOffice)",
        document="position",
        languages=_EN_ES,
    )
)
register(
    Format(
        "xlsx", "xlsx", XLSX, _questionnaire, "Excel", document="questionnaire", languages=_EN_ES
    )
)


def _skos_ttl(c: Compendium, **_: Any) -> bytes:
    from rcm.export.skos import to_turtle

    return to_turtle().encode("utf-8")


def _skos_jsonld(c: Compendium, **_: Any) -> bytes:
    from rcm.export.skos import to_jsonld

    return to_jsonld().encode("utf-8")


register(
    Format(
        "skos-ttl",
        "ttl",
        "text/turtle; charset=utf-8",
        _skos_ttl,
        "the thesaurus, themes, categories and GCM objectives as SKOS (Turtle)",
        text=True,
    )
)
register(
    Format(
        "skos-jsonld",
        "jsonld",
        "application/ld+json",
        _skos_jsonld,
        "the thesaurus, themes, categories and GCM objectives as SKOS (JSON-LD)",
        text=True,
    )
)
