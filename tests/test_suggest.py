"""Suggesters, curated files and the evaluation harness (rcm.suggest)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from itertools import pairwise

import pytest
from sqlalchemy import select

from rcm.model import Category, CategorySource
from rcm.store import schema as t
from rcm.suggest import Suggester, label_compendium
from rcm.suggest.category import governing_cue
from rcm.suggest.curated import curated_categories, curated_objectives
from rcm.suggest.evaluate import evaluate


@pytest.fixture(scope="module")
def labelled(compendium):
    return label_compendium(compendium)


@pytest.fixture(scope="module")
def suggester(labelled):
    return Suggester.train(labelled)


@pytest.fixture(scope="module")
def report(labelled):
    return evaluate(labelled)


def test_curated_files_cover_exactly_the_compilation(compendium):
    ids = {s.id for s in compendium.statements}
    assert set(curated_categories()) == ids
    assert set(curated_objectives()) == ids
    counts = Counter(c.category for c in curated_categories().values())
    assert counts == {Category.COMMITMENT: 66, Category.UNDERSTANDING: 55, Category.PRINCIPLE: 8}
    for sid, c in curated_categories().items():
        # the evidence is quoted from the statement itself
        assert c.evidence.lower() in compendium.statement(sid).text.lower(), sid
    links = curated_objectives()
    assert sum(len(v) for v in links.values()) == 228
    assert links["I-7221"] == ()  # curated as serving no objective


def test_curated_labels_win_and_the_rest_is_marked_suggested(compendium, labelled):
    assert all(s.category_source == CategorySource.CURATED for s in labelled.statements)
    assert all(s.category_confidence is None for s in labelled.statements)
    assert {x.source for x in labelled.objective_links} == {CategorySource.CURATED}
    # a statement the curated file does not know (e.g. from a revised compilation)
    stranger = replace(
        compendium.statements[0],
        id="I-9999",
        text="They agreed to establish a regional network of consular protection officials.",
    )
    bigger = replace(compendium, statements=[*compendium.statements, stranger])
    out = label_compendium(bigger)
    new = out.statement("I-9999")
    assert new.category == Category.COMMITMENT
    assert new.category_source == CategorySource.SUGGESTED
    assert 0.33 < (new.category_confidence or 0) <= 1
    suggested = [x for x in out.objective_links if x.statement_id == "I-9999"]
    assert suggested and suggested[0].objective == 14
    assert all(x.source == CategorySource.SUGGESTED and x.score for x in suggested)
    # the same input gives the same output
    again = label_compendium(bigger)
    assert again.statements == out.statements and again.objective_links == out.objective_links


@pytest.mark.parametrize(
    ("text", "category", "phrase"),
    [
        ("They agreed to continue organizing workshops on return.", "commitment", "agreed to"),
        ("Promote the exchange of information among States.", "commitment", "promote"),
        ("To strengthen consular networks in transit countries.", "commitment", "to strengthen"),
        (
            "The Vice-Ministers expressed the commitment of their governments to continue",
            "commitment",
            "expressed the commitment",
        ),
        (
            "We recognize the challenges posed by extra-regional flows.",
            "understanding",
            "recognize",
        ),
        ("They noted that migration is a complex phenomenon.", "understanding", "noted that"),
        (
            "The Vice-Ministers reaffirmed the principle of shared responsibility.",
            "principle",
            "reaffirmed the principle",
        ),
        (
            "Respect for the human rights of migrants regardless of their migratory status.",
            "principle",
            "regardless of their migratory status",
        ),
        ("The Conference urged States to ratify the Protocol.", "commitment", "urged"),
        # a communiqué's decisions
        ("To accept the proposal as a reference document.", "commitment", "to accept"),
        (
            "They requested that the Technical Secretariat prepare a report.",
            "commitment",
            "requested that",
        ),
    ],
)
def test_the_governing_cue(text, category, phrase):
    cue = governing_cue(text)
    assert cue is not None
    assert (cue.category.value, cue.phrase) == (category, phrase)


def test_no_cue_for_text_without_a_governing_verb():
    assert governing_cue("Migration in the region, 1996–2016") is None


def test_a_suggestion_says_why(suggester):
    s = suggester.suggest(
        "We commit to strengthen consular protection for migrants in transit, "
        "and to combat trafficking in persons."
    )
    assert s.category.category == Category.COMMITMENT
    assert s.category.cue and s.category.cue.phrase.startswith("commit")
    assert s.category.evidence  # the features that weighed most
    assert abs(sum(s.category.scores.values()) - 1) < 1e-6
    assert s.themes.themes and s.themes.scores[0].suggested
    assert all(a.score >= b.score for a, b in pairwise(s.themes.scores))
    assert {o.objective for o in s.objectives} & {10, 14}
    assert all(o.evidence for o in s.objectives)
    json.dumps(s.as_dict())  # serialisable as it is stored in the review queue


def test_theme_suggestions_are_multi_label(suggester):
    text = (
        "Promote the fight against trafficking in persons and the smuggling of migrants, "
        "with special attention to victims, and the protection of the human rights of migrants"
    )
    themes = suggester.suggest(text).themes
    assert 5 in themes.themes
    for theme, sub in themes.placements:
        assert sub >= 1 and theme in themes.themes


def test_suggestions_are_deterministic(labelled):
    texts = [
        "Strengthen return and reintegration programmes.",
        "We recognize the role of civil society.",
    ]
    a = Suggester.train(labelled).suggest_many(texts)
    b = Suggester.train(labelled).suggest_many(texts)
    assert [x.as_dict() for x in a] == [x.as_dict() for x in b]


# The floors: just below the harness's figures with the shipped settings (category accuracy 0.822,
# macro-F1 0.627; themes micro-F1 0.604, sub-themes 0.359), and never below the baselines. The
# settings were chosen by nested cross-validation (bench/select_suggest.py): its honest figures,
# 0.814 and 0.604 (round 3, pre-registered in bench/select_suggest_round3.md), are what
# bench/results/select_suggest_round3.json records.
def test_category_quality_floor(report):
    cat = report["category"]
    assert cat["statements"] == 129 and cat["folds"] == 5
    assert cat["model"]["accuracy"] >= 0.81
    assert cat["model"]["macro_f1"] >= 0.61
    assert cat["model"]["accuracy"] > cat["majority"]["accuracy"] + 0.15
    assert cat["model"]["macro_f1"] > cat["rules"]["macro_f1"]
    assert cat["settings"]["clauses"] is True
    confusion = cat["model"]["confusion"]["rows_gold_columns_predicted"]
    assert sum(map(sum, confusion)) == 129


def test_theme_quality_floor(report):
    th = report["themes"]
    assert th["meetings_held_out"] == 20 and th["statements"] == 129
    assert th["model"]["micro_f1"] >= 0.59
    assert th["model"]["subtheme_micro_f1"] >= 0.34
    assert th["settings"]["threshold"] == 0.4  # the round-3 nested selection's choice
    assert th["model"]["micro_f1"] > th["rules"]["micro_f1"]
    assert th["model"]["micro_f1"] > th["majority"]["micro_f1"]
    assert th["model"]["macro_f1"] > th["majority"]["macro_f1"]
    assert th["model"]["subtheme_micro_f1"] > th["majority"]["subtheme_micro_f1"]


def test_objective_quality_floor(report):
    ob = report["objectives"]
    assert ob["links"] == 228
    assert ob["model"]["precision_at_1"] >= 0.58
    assert ob["model"]["precision_at_1"] > ob["titles_only"]["precision_at_1"]
    assert ob["model"]["precision_at_1"] > ob["majority"]["precision_at_1"]
    assert ob["model"]["micro_f1"] > ob["majority"]["micro_f1"]


def test_cross_validation_never_tests_on_a_training_copy(compendium, monkeypatch):
    """Copies of one statement in several meetings must fall in one category fold and be removed
    from theme training when their meeting is held out."""
    from rcm.parse.text import normal_form
    from rcm.suggest import themes as theme_module

    held_out_forms: list[set[str]] = []
    original = theme_module.ThemeModel.__init__

    def spy(self, texts, placements):
        held_out_forms.append({normal_form(x) for x in texts})
        original(self, texts, placements)

    monkeypatch.setattr(theme_module.ThemeModel, "__init__", spy)
    from rcm.suggest.evaluate import evaluate_themes

    labelled = label_compendium(compendium)
    evaluate_themes(labelled)
    meetings = sorted(
        {s.meeting for s in labelled.statements}, key=lambda m: labelled.meeting(m).number
    )
    for meeting, trained in zip(meetings, held_out_forms, strict=True):
        tested = {normal_form(s.text) for s in labelled.statements if s.meeting == meeting}
        assert not tested & trained, meeting


def test_ingest_stores_curated_categories_and_objectives(store, compendium):
    labelled = label_compendium(compendium)
    result = store.ingest(labelled)
    assert result.added == 129
    counts = store.counts()
    assert counts["categories"] == {"commitment": 66, "principle": 8, "understanding": 55}
    with store.connection() as conn:
        rows = conn.execute(select(t.statement_objectives)).all()
    assert len(rows) == 228 and {r.source for r in rows} == {"curated"}
    assert store.ingest(labelled).changed is False  # idempotent
    # a suggestion never overwrites a person's category; a curated one replaces a suggestion
    sid = compendium.statements[0].id
    suggested = replace(
        labelled,
        statements=[
            replace(s, category=Category.PRINCIPLE, category_source=CategorySource.SUGGESTED)
            if s.id == sid
            else s
            for s in labelled.statements
        ],
    )
    assert store.ingest(suggested).recategorised == 0
    assert store.statement(sid)[0].category == curated_categories()[sid].category


def test_a_parse_only_ingest_then_a_labelled_one_fills_the_categories(store, compendium):
    store.ingest(compendium)
    assert store.counts()["categories"] == {"unassigned": 129}
    result = store.ingest(label_compendium(compendium))
    assert result.recategorised == 129 and result.objective_links_changed
    assert store.counts()["categories"] == {"commitment": 66, "principle": 8, "understanding": 55}


# Parallel statements written for this test, in the compilation's style: a Spanish declaration must
# be suggested what its English version would be (no Spanish text to learn from exists).
PAIRS = [
    (
        "We commit to strengthen consular protection and assistance for migrants in transit.",
        "Nos comprometemos a fortalecer la protección y asistencia consular a las personas "
        "migrantes en tránsito.",
    ),
    (
        "Promote the sustainable reintegration of returned migrants in their communities "
        "of origin.",
        "Promover la reintegración sostenible de las personas migrantes retornadas en sus "
        "comunidades de origen.",
    ),
    (
        "We recognize the contributions of migrants to the development of countries of origin, "
        "transit and destination.",
        "Reconocemos las contribuciones de las personas migrantes al desarrollo de los países de "
        "origen, tránsito y destino.",
    ),
    (
        "Strengthen cooperation to combat trafficking in persons and protect its victims.",
        "Fortalecer la cooperación para combatir la trata de personas y proteger a sus víctimas.",
    ),
    (
        "Reaffirm the principle of respect for the human rights of migrants regardless of their "
        "migratory status.",
        "Reafirmar el principio de respeto a los derechos humanos de las personas migrantes, "
        "independientemente de su condición migratoria.",
    ),
    (
        "Develop information campaigns on the risks of irregular migration.",
        "Desarrollar campañas de información sobre los riesgos de la migración irregular.",
    ),
    (
        "Instruct the Technical Secretariat to prepare a study on extra-regional migration flows.",
        "Instruir a la Secretaría Técnica para que elabore un estudio sobre los flujos migratorios "
        "extrarregionales.",
    ),
    (
        "Promote the protection of unaccompanied migrant children and adolescents.",
        "Promover la protección de las niñas, niños y adolescentes migrantes no acompañados.",
    ),
    (
        "Improve border management and coordination among border authorities.",
        "Mejorar la gestión de fronteras y la coordinación entre las autoridades fronterizas.",
    ),
    (
        "Promote the exchange of data and statistics on migration flows in the region.",
        "Promover el intercambio de datos y estadísticas sobre los flujos migratorios en la "
        "región.",
    ),
]


def test_spanish_statements_get_what_their_english_versions_get(suggester):
    from rcm.suggest.lang import guess_language

    same_category = same_theme = same_objective = 0
    for en, es in PAIRS:
        assert (guess_language(en), guess_language(es)) == ("en", "es")
        a, b = suggester.suggest(en), suggester.suggest(es)
        assert b.category.cue is not None, es  # the governing verb is read in Spanish
        same_category += a.category.category == b.category.category
        same_theme += a.themes.themes[0] == b.themes.themes[0]
        same_objective += [o.objective for o in a.objectives][:1] == [
            o.objective for o in b.objectives
        ][:1]
    assert same_category == len(PAIRS)
    assert same_theme >= 9 and same_objective >= 8


@pytest.mark.parametrize(
    ("text", "category", "phrase"),
    [
        ("Acordamos fortalecer la cooperación regional.", "commitment", "acordamos "),
        (
            "Reconocemos los desafíos de la migración extrarregional.",
            "understanding",
            "reconocemos",
        ),
        ("Promover el retorno digno de las personas migrantes.", "commitment", "promover"),
        (
            "Reafirmar el principio de responsabilidad compartida.",
            "principle",
            "reafirmar el principio",
        ),
        (
            "Instruir a la Secretaría Técnica para que: elabore un informe.",
            "commitment",
            "instruir",
        ),
        ("Retorno: Promover el retorno seguro.", "commitment", "promover"),
        # any infinitive opening, also of a verb no table knows
        ("Sistematizar las buenas prácticas de la región.", "commitment", "sistematizar"),
        ("Gestionar las fronteras de manera integrada.", "commitment", "gestionar"),
        (
            "Los Viceministros comisionaron a la Presidencia Pro Tempore un informe.",
            "commitment",
            "comisionaron",
        ),
        (
            "Estuvieron de acuerdo en que un enfoque integral contribuiría al entendimiento.",
            "understanding",
            "estuvieron de acuerdo en que",
        ),
        (
            "Estuvieron de acuerdo en promover campañas de información.",
            "commitment",
            "estuvieron de acuerdo en promover",
        ),
    ],
)
def test_the_governing_cue_in_spanish(text, category, phrase):
    cue = governing_cue(text, "es")
    assert cue is not None and (cue.category.value, cue.phrase) == (category, phrase.strip())


@pytest.mark.parametrize(
    "text", ["Mujer migrante y trabajo decente.", "Lugar de origen de las personas migrantes."]
)
def test_a_noun_ending_like_an_infinitive_is_no_cue(text):
    assert governing_cue(text, "es") is None


def test_the_global_compacts_objectives_read_the_same_in_both_languages(suggester):
    """The 23 objectives' titles, the UN's own parallel texts (A/RES/73/195 para. 16), all
    imperatives: a commitment in either language, with the same top theme."""
    from importlib.resources import files

    from rcm.taxonomy import label_es

    rows = (files("rcm.taxonomy") / "gcm_objectives.tsv").read_text(encoding="utf-8")
    titles = [line.split("\t") for line in rows.splitlines()[1:] if line.strip()]
    for number, english in titles:
        a, b = suggester.suggest(english), suggester.suggest(label_es("gcm", number))
        assert a.category.category == b.category.category == Category.COMMITMENT, number
        assert a.themes.themes[0] == b.themes.themes[0], number


def test_the_glossary_reads_domain_terms():
    from rcm.suggest.lang import gloss

    assert gloss("la trata de personas y el tráfico ilícito de migrantes") == (
        "the trafficking in persons and the smuggling of migrants"
    )


# --- issue 16: suggestions that hold in Spanish and English ------------------------------------


def test_parallel_statements_get_the_same_category_and_top_theme(suggester):
    """The declarations written in both languages (tests/data/declarations/own/): a statement and
    its translation get the same top theme (≥ 0.9) and mostly the same category."""
    import json
    from pathlib import Path

    from rcm.parse import read_declaration

    own = Path(__file__).parent / "data" / "declarations" / "own"
    expected = json.loads((own / "expected.json").read_text(encoding="utf-8"))["declarations"]
    same_category = same_theme = n = 0
    for name, entry in expected.items():
        if entry["lang"] != "es":
            continue
        es = read_declaration(own / name).statements
        en = read_declaration(own / entry["pair"]).statements
        assert len(es) == len(en)
        a = suggester.suggest_many([s.text for s in es], ["es"] * len(es))
        b = suggester.suggest_many([s.text for s in en], ["en"] * len(en))
        for x, y in zip(a, b, strict=True):
            n += 1
            same_category += x.category.category == y.category.category
            same_theme += x.themes.themes[0] == y.themes.themes[0]
    assert n == 25
    assert same_theme / n >= 0.9
    assert same_category / n >= 0.9  # measured 24 of 25 (0.96)


def heldout_pairs() -> list[dict[str, str]]:
    import csv
    from pathlib import Path

    path = Path(__file__).parent / "data" / "suggest" / "parallel_heldout.tsv"
    lines = [x for x in path.read_text(encoding="utf-8").splitlines() if not x.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))


def test_held_out_parallel_statements_get_the_same_category_and_top_theme(suggester):
    """36 pairs written before the suggesters were changed and never used to set them
    (tests/data/suggest/parallel_heldout.tsv). Measured: category 32 of 36 (0.889; 33 before the
    change), top theme 35 of 36 (0.972; 27 before); with the sessions' key terms in the theme
    model (ThemeSettings.briefs, chosen by the nested selection) top theme 33 of 36 (0.917): the
    three pairs that changed were near-ties (top two themes within 0.02). The floor is the
    issue's target, parity >= 0.9."""
    pairs = heldout_pairs()
    assert len(pairs) == 36
    en = suggester.suggest_many([p["en"] for p in pairs], ["en"] * len(pairs))
    es = suggester.suggest_many([p["es"] for p in pairs], ["es"] * len(pairs))
    same_category = sum(
        a.category.category == b.category.category for a, b in zip(en, es, strict=True)
    )
    same_theme = sum(a.themes.themes[0] == b.themes.themes[0] for a, b in zip(en, es, strict=True))
    assert same_category >= 31
    assert same_theme >= 33  # 0.9 of 36 pairs
    # and mostly what a person would give, in either language
    right = sum(
        a.category.category.value == p["category"]
        for a, p in zip([*en, *es], [*pairs, *pairs], strict=True)
    )
    assert right >= 64  # measured 66 of 72


@pytest.mark.parametrize(
    ("text", "lang", "category"),
    [
        ("Principios: El respeto pleno de los derechos humanos; La soberanía.", "es", "principle"),
        ("Principles: Full respect for human rights; Sovereignty.", "en", "principle"),
        ("Nos comprometemos a intercambiar datos migratorios.", "es", "commitment"),
        ("La CRM reafirma su compromiso de combatir la trata de personas.", "es", "commitment"),
        ("La CRM hace un llamado a los Países Miembros a actuar.", "es", "commitment"),
        ("The RCM calls on the Member Countries to act.", "en", "commitment"),
        ("Deseamos reiterar nuestro compromiso de fortalecer la cooperación.", "es", "commitment"),
        ("La CRM expresa su preocupación por los niños no acompañados.", "es", "understanding"),
    ],
)
def test_cues_in_both_languages(text, lang, category):
    from rcm.suggest.category import governing_cue

    cue = governing_cue(text, lang)
    assert cue is not None and cue.category.value == category


def test_every_clause_is_read():
    from rcm.suggest.category import clause_reading

    # a leading participle never decides; the finite clause after it does
    assert clause_reading(
        "Recognizing the importance of dialogue, the Vice-Ministers agreed to hold a workshop."
    ) == (0.0, 1.0, 1.0, 0.0)
    assert (
        clause_reading("They reaffirmed their commitment to the principles of international law")[3]
        == 1.0
    )
    assert clause_reading("Los Viceministros acordaron crear un grupo de trabajo.", "es")[2] == 1.0


def test_spanish_gloss_keeps_person_and_tense():
    from rcm.suggest.lang import gloss

    assert gloss("La CRM reconoce el papel") == "the rcm recognizes the role"
    assert gloss("Reconocemos el papel").startswith("we recognize")
    assert gloss("Los Viceministros acordaron").endswith("agreed")
    assert gloss("capacidad y cooperación") == "capacity and cooperation"
    assert gloss("Acordaron crear") == "agreed to create"  # the infinitive is the to-infinitive


def test_the_sessions_key_terms_are_one_document_per_sub_theme_with_a_source(labelled):
    import csv
    from importlib.resources import files

    from rcm import taxonomy
    from rcm.suggest.themes import ThemeModel, ThemeSettings, brief_documents

    texts, places = brief_documents()
    subthemes = [(th.number, s.order) for th in taxonomy.themes() for s in th.subthemes]
    assert sorted(p for [p] in places) == sorted(subthemes)
    assert all(len(t.split(". ")) >= 5 for t in texts)
    rows = files("rcm.suggest").joinpath("data", "session_terms.tsv").read_text("utf-8")
    table = csv.DictReader([r for r in rows.splitlines() if not r.startswith("#")], delimiter="\t")
    assert all(row["source"].strip() for row in table)
    # the setting adds them to the training (a word only the key terms have), and only it does
    placed: dict[str, list[tuple[int, int]]] = {}
    for p in labelled.placements:
        placed.setdefault(p.statement_id, []).append((p.theme, p.subtheme))
    items = [s for s in labelled.statements if s.id in placed][:60]
    vocabulary = {
        briefs: ThemeModel(
            [s.text for s in items], [placed[s.id] for s in items], ThemeSettings(briefs=briefs)
        ).vectorizer.vocabulary_
        for briefs in (False, True)
    }
    added = set(vocabulary[True]) - set(vocabulary[False])
    assert {"peacebuild", "altern detent"} <= added


def test_the_round_3_candidates_train_and_suggest(labelled):
    """Every setting of bench/select_suggest_round3.md builds a model whose suggestions are well
    formed; a lower threshold only adds themes; per-theme thresholds come from their grid."""
    import numpy as np

    from rcm.suggest.category import CategoryModel, CategorySettings, clause_reading
    from rcm.suggest.curated import curated_categories
    from rcm.suggest.themes import PER_THEME_GRID, ThemeModel, ThemeSettings

    labels = curated_categories()
    items = labelled.statements
    texts = [s.text for s in items]
    probes = [
        "We commit to strengthen consular protection of migrants.",
        "Reconocer el importante papel de la sociedad civil en la protección de los migrantes.",
    ]
    for learner in ("logreg", "svm", "cnb", "ensemble"):
        settings = CategorySettings(chars=True, clauses=True, c=1.0, learner=learner)
        model = CategoryModel(texts, [labels[s.id].category for s in items], settings)
        for got in model.suggest_many(probes, ["en", "es"]):
            assert abs(sum(got.scores.values()) - 1) < 1e-6, learner
            assert got.confidence == max(got.scores.values())
        assert model.suggest_many(probes[:1])[0].category == Category.COMMITMENT, learner
    heavier = CategoryModel(
        texts, [labels[s.id].category for s in items], CategorySettings(clauses=True, cue_weight=4)
    )
    x = heavier._features(heavier.vectorizer.transform(probes[:1]), probes[:1], ["en"])
    column = heavier.feature_names.index("[cue: commitment]")
    assert x[0, column] == 4.0 and clause_reading(probes[0])[2] == 1.0  # the cue, weighed 4
    placed: dict[str, list[tuple[int, int]]] = {}
    for p in labelled.placements:
        placed.setdefault(p.statement_id, []).append((p.theme, p.subtheme))
    placed_items = [s for s in items if s.id in placed]
    args = ([s.text for s in placed_items], [placed[s.id] for s in placed_items])
    base = ThemeSettings(briefs=True, objectives=True, chars=True, c=1.0)
    found = {}
    for variant in (
        base,
        replace(base, threshold=0.4),
        replace(base, per_theme=True),
        replace(base, knowledge=True),
        replace(base, learner="chain"),
        replace(base, learner="svm", c=0.1),
    ):
        model = ThemeModel(*args, variant, subthemes=False)
        got = model.suggest_many(probes)
        assert all(g.themes and g.themes[0] == g.scores[0].theme for g in got)
        assert all(0 <= s.score <= 1 for g in got for s in g.scores)
        found[variant] = [set(g.themes) for g in got]
        if variant.per_theme:
            assert set(model.thresholds) <= set(PER_THEME_GRID)
        if variant.knowledge:
            assert (
                model._features(probes).shape[1]
                == model.vectorizer.transform(probes).shape[1]
                + (model.chars.transform(probes).shape[1] if model.chars else 0)
                + 6
            )
    lower = found[replace(base, threshold=0.4)]
    assert all(a <= b for a, b in zip(found[base], lower, strict=True))
    assert np.isclose(ThemeSettings().threshold, 0.5)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        (
            "National sovereignty: Each State decides how migration is governed in its territory.",
            "en",
        ),
        ("Whole-of-society approach: Migrants, diasporas and local communities take part.", "en"),
        (
            "Soberanía nacional: Cada Estado decide cómo se gobierna allí la migración.",
            "es",
        ),
        ("Perspectiva infantil: El interés superior del niño orienta cada decisión.", "es"),
    ],
)
def test_a_paragraph_headed_by_a_guiding_principle_is_a_principle(suggester, text, lang):
    """A statement headed by the name of a GCM guiding principle (A/RES/73/195 para. 15, in the
    taxonomy) states that principle, whatever its words weigh: the document says what it is."""
    found = suggester.suggest_many([text], [lang])[0].category
    assert found.category == Category.PRINCIPLE and found.confidence == 1.0
    assert found.cue is not None and found.cue.rule == "the heading names a guiding principle"


def test_a_section_title_over_an_action_is_no_principle(suggester):
    for text, lang in (
        ("Human rights: Promote training on the rights of migrants for border officials.", "en"),
        ("Derechos humanos: Promover la capacitación de los funcionarios de frontera.", "es"),
    ):
        found = suggester.suggest_many([text], [lang])[0].category
        assert found.category == Category.COMMITMENT
