"""The reference vocabularies as SKOS (https://www.w3.org/TR/skos-reference/), in Turtle and in
JSON-LD, each concept with ``skos:prefLabel`` in English and Spanish: the bilingual migration
thesaurus (``rcm.taxonomy.thesaurus``), the six themes and their sub-themes, the categories and
the 23 objectives and the 10 guiding principles of the Global Compact for Migration; a theme
also carries its thematic session's full UN title in both languages. Written directly (no RDF
library): every literal goes through :func:`_turtle_string` or ``json.dumps``. See docs/skos.md."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any
from urllib.parse import quote

from rcm import taxonomy
from rcm.taxonomy import thesaurus

__all__ = ["VOCABULARIES", "Concept", "Scheme", "schemes", "to_jsonld", "to_turtle"]

DEFAULT_BASE = "urn:rcm:vocab:"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
VOCABULARIES = ("thesaurus", "themes", "categories", "gcm", "principles")

# Where the official Spanish titles come from (src/rcm/taxonomy/README.md cites them in full).
MODALITIES = (
    "A/RES/71/280 (modalities of the negotiations of the Global Compact), the six thematic "
    "sessions <https://undocs.org/es/A/RES/71/280>"
)
COMPACT = (
    "A/RES/73/195, Global Compact for Safe, Orderly and Regular Migration "
    "<https://undocs.org/es/A/RES/73/195>"
)


@dataclass(frozen=True)
class Concept:
    id: str  # local name within its scheme
    pref: dict[str, str]  # lang -> label
    alt: dict[str, tuple[str, ...]] = field(default_factory=dict)
    notation: str | None = None
    definition: dict[str, str] = field(default_factory=dict)
    broader: str | None = None  # local id in the same scheme
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scheme:
    id: str
    title: dict[str, str]
    concepts: tuple[Concept, ...]


@cache
def _labels_es() -> dict[tuple[str, str], str]:
    text = files("rcm.taxonomy").joinpath("labels_es.tsv").read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    return {(r["scheme"], r["notation"]): r["label_es"] for r in rows}


def _both(scheme: str, notation: str, en: str) -> dict[str, str]:
    es = _labels_es().get((scheme, notation))
    return {"en": en, "es": es} if es else {"en": en}


def _thesaurus() -> Scheme:
    cited = thesaurus.sources()
    concepts = tuple(
        Concept(
            id=c.id,
            pref={"en": c.en[0], "es": c.es[0]},
            alt={"en": c.en[1:], "es": c.es[1:]},
            sources=tuple(
                f"{cited[key].citation}{', ' + where if where else ''} <{cited[key].url}>"
                for key, where in c.sources
            ),
        )
        for c in thesaurus.concepts()
    )
    title = {"en": "Bilingual migration thesaurus", "es": "Tesauro bilingüe de migración"}
    return Scheme("thesaurus", title, concepts)


def _themes() -> Scheme:
    out: list[Concept] = []
    for theme in taxonomy.themes():
        n = str(theme.number)
        # the short title is the label; the session's full UN title, in both languages, the
        # alternative one (the title the modalities resolution gives the session)
        full = _both("theme_un", n, theme.un_title) if theme.un_title else {}
        out.append(
            Concept(
                f"TS{n}",
                _both("theme", n, theme.title),
                alt={lang: (title,) for lang, title in full.items()},
                notation=f"TS{n}",
                sources=(MODALITIES,) if full else (),
            )
        )
        for sub in theme.subthemes:
            key = f"{sub.theme}.{sub.order}"
            out.append(
                Concept(
                    f"TS{key}",
                    _both("subtheme", key, sub.title),
                    notation=f"TS{key}",
                    broader=f"TS{n}",
                )
            )
    title = {"en": "Themes and sub-themes", "es": "Temas y subtemas"}
    return Scheme("themes", title, tuple(out))


def _categories() -> Scheme:
    out = tuple(
        Concept(
            str(c.category.value),
            _both("category", str(c.category.value), c.label),
            notation=str(c.category.value),
            definition={"en": c.definition},
        )
        for c in taxonomy.categories()
    )
    return Scheme("categories", {"en": "Categories", "es": "Categorías"}, out)


def _gcm() -> Scheme:
    out = tuple(
        Concept(
            f"objective-{o.number}",
            _both("gcm", str(o.number), o.title),
            notation=str(o.number),
            sources=(f"{COMPACT}, para. 16",),
        )
        for o in taxonomy.gcm_objectives()
    )
    title = {
        "en": "Objectives of the Global Compact for Safe, Orderly and Regular Migration",
        "es": "Objetivos del Pacto Mundial para la Migración Segura, Ordenada y Regular",
    }
    return Scheme("gcm", title, out)


def _principles() -> Scheme:
    out = tuple(
        Concept(
            f"principle-{p.letter}",
            _both("principle", p.letter, p.name),
            notation=p.letter,
            sources=(f"{COMPACT}, para. 15 ({p.letter})",),
        )
        for p in taxonomy.gcm_principles()
    )
    title = {
        "en": "Guiding principles of the Global Compact for Safe, Orderly and Regular Migration",
        "es": "Principios rectores del Pacto Mundial para la Migración Segura, Ordenada y Regular",
    }
    return Scheme("principles", title, out)


_BUILDERS = {
    "thesaurus": _thesaurus,
    "themes": _themes,
    "categories": _categories,
    "gcm": _gcm,
    "principles": _principles,
}


def schemes(names: tuple[str, ...] = VOCABULARIES) -> list[Scheme]:
    unknown = [n for n in names if n not in _BUILDERS]
    if unknown:
        raise ValueError(f"no vocabulary {unknown[0]!r}; one of {', '.join(VOCABULARIES)}")
    return [_BUILDERS[n]() for n in names]


def _iri(base: str, scheme: str, local: str = "") -> str:
    return base + quote(scheme, safe="") + ("/" + quote(local, safe="") if local else "")


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _turtle_string(value: str, lang: str | None = None) -> str:
    body = "".join(_ESCAPES.get(ch, ch) for ch in value)
    return f'"{body}"' + (f"@{lang}" if lang else "")


def _turtle_iri(iri: str) -> str:
    if any(ch in iri for ch in '<>"{}|^`\\ ') or any(ord(ch) < 0x21 for ch in iri):
        raise ValueError(f"not an IRI: {iri!r}")
    return f"<{iri}>"


def to_turtle(names: tuple[str, ...] = VOCABULARIES, base: str = DEFAULT_BASE) -> str:
    lines = [f"@prefix skos: <{SKOS}> .", f"@prefix dct: <{DCT}> .", ""]
    for scheme in schemes(names):
        s_iri = _turtle_iri(_iri(base, scheme.id))
        lines.append(f"{s_iri} a skos:ConceptScheme ;")
        titles = " , ".join(_turtle_string(v, k) for k, v in scheme.title.items())
        lines.append(f"    dct:title {titles} .")
        lines.append("")
        for c in scheme.concepts:
            props = [f"skos:inScheme {s_iri}"]
            props += [f"skos:prefLabel {_turtle_string(v, k)}" for k, v in c.pref.items()]
            for lang, alts in c.alt.items():
                props += [f"skos:altLabel {_turtle_string(a, lang)}" for a in alts]
            if c.notation:
                props.append(f"skos:notation {_turtle_string(c.notation)}")
            props += [f"skos:definition {_turtle_string(v, k)}" for k, v in c.definition.items()]
            if c.broader:
                props.append(f"skos:broader {_turtle_iri(_iri(base, scheme.id, c.broader))}")
            else:
                props.append(f"skos:topConceptOf {s_iri}")
            props += [f"dct:source {_turtle_string(src)}" for src in c.sources]
            lines.append(f"{_turtle_iri(_iri(base, scheme.id, c.id))} a skos:Concept ;")
            lines.append("    " + " ;\n    ".join(props) + " .")
            lines.append("")
    return "\n".join(lines)


def _lang_values(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"@value": v, "@language": k} for k, v in values.items()]


def to_jsonld(names: tuple[str, ...] = VOCABULARIES, base: str = DEFAULT_BASE) -> str:
    graph: list[dict[str, Any]] = []
    for scheme in schemes(names):
        s_iri = _iri(base, scheme.id)
        graph.append(
            {"@id": s_iri, "@type": "skos:ConceptScheme", "dct:title": _lang_values(scheme.title)}
        )
        for c in scheme.concepts:
            node: dict[str, Any] = {
                "@id": _iri(base, scheme.id, c.id),
                "@type": "skos:Concept",
                "skos:inScheme": {"@id": s_iri},
                "skos:prefLabel": _lang_values(c.pref),
            }
            alts = [{"@value": a, "@language": k} for k, v in c.alt.items() for a in v]
            if alts:
                node["skos:altLabel"] = alts
            if c.notation:
                node["skos:notation"] = c.notation
            if c.definition:
                node["skos:definition"] = _lang_values(c.definition)
            if c.broader:
                node["skos:broader"] = {"@id": _iri(base, scheme.id, c.broader)}
            else:
                node["skos:topConceptOf"] = {"@id": s_iri}
            if c.sources:
                node["dct:source"] = list(c.sources)
            graph.append(node)
    document = {"@context": {"skos": SKOS, "dct": DCT}, "@graph": graph}
    return json.dumps(document, ensure_ascii=False, indent=1)
