"""Category suggester: principle, understanding or commitment.

Two parts. ``governing_cue`` reads a statement as the compilation's definitions ask one to: find the
governing verb and its subject ("They agreed to…", "We recognize…", imperative "Promote…",
"reaffirmed the principle…") and say which category that verb usually signals. ``CategoryModel``
learns from the curated labels: a logistic regression over word n-grams plus the cue, so that the
cue is evidence, not a verdict. Every suggestion carries the cue and the words that weighed most.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from rcm.analyze import fold
from rcm.model import Category
from rcm.suggest.lang import gloss, prepare


@dataclass(frozen=True)
class Cue:
    """The governing phrase of a statement and the category it usually signals."""

    category: Category
    phrase: str
    rule: str


# The subject that opens most statements; the verb that follows it governs the statement.
_SUBJECT = (
    r"(?:the\s+)?(?:vice[- ]ministers?|rcm(?:\s+member\s+(?:states|countries))?|member\s+countries|"
    r"regional\s+conference(?:\s+on\s+migration)?|conference|participating\s+(?:states|countries)|"
    r"governments?|countries|they|we|it\s+was)"
)
_ADVERBS = r"(?:(?:also|further|furthermore|hereby|jointly|once\s+again|again|firmly|strongly)\s+)*"

# Order matters: the first rule that matches the governing clause decides the cue. As the curated
# guideline has it, a norm reaffirmed as such is a principle, but where a statement both names a
# norm and binds the members to act, the commitment governs.
_RULES: list[tuple[str, Category, re.Pattern[str]]] = [
    (
        "affirms a principle or norm",
        Category.PRINCIPLE,
        re.compile(
            r"\b(?:reaffirm\w*|affirm\w*|reiterat\w*|recogni[sz]\w*|uphold\w*)\s+"
            r"(?:the\s+|their\s+|our\s+)?(?:(?:full|fundamental|basic|guiding)\s+)?"
            r"(?:principles?|respect\s+for|sovereign\s+right|right\s+of\s+(?:states|every|all)|"
            r"fundamental\s+rights?|inalienable)\b"
        ),
    ),
    (
        "expresses a commitment",
        Category.COMMITMENT,
        re.compile(
            r"\b(?:commit\w*\s+(?:to|themselves|ourselves)|(?:expressed|reiterat\w*|reaffirm\w*)\s+"
            r"(?:the\s+|their\s+|our\s+)?(?:firm\s+)?commitment|pledge\w*|undert(?:ake|ook)\w*|"
            r"resolved?\s+to|decided?\s+to|agreed?\s+to\b|agree\s+on|instruct\w*|approv\w*|"
            r"request\w*\s+(?:the|that)|entrust\w*|mandat\w*|will\s+(?:continue|promote|work|strengthen|"
            r"seek|support|develop|establish|carry))"
        ),
    ),
    (
        "names a principle",
        Category.PRINCIPLE,
        re.compile(
            r"\b(?:principles?\s+of|in\s+accordance\s+with\s+the\s+principles?|"
            r"regardless\s+of\s+(?:(?:their|its|his|her)\s+)?(?:migratory|immigration|migration)"
            r"\s+status|condemn\w*\s+(?:all|any|every)\s+forms?\s+of|"
            r"non[- ]refoulement|sovereign\s+right)\b"
        ),
    ),
    (
        "urges or calls for action",
        Category.COMMITMENT,
        re.compile(r"\b(?:urge[ds]?|call(?:s|ed)?\s+(?:on|upon)|exhort\w*|encourag\w*)\b"),
    ),
    (
        "states an understanding",
        Category.UNDERSTANDING,
        re.compile(
            r"\b(?:recogni[sz]\w*|acknowledg\w*|not(?:e|ed|ing)\s+(?:that|the|with)|"
            r"agreed?\s+that|consider\w*\s+that|underscor\w*|underlin\w*|stress\w*|emphasi[sz]\w*|"
            r"highlight\w*|express\w*\s+(?:their|our|its)?\s*(?:concern|satisfaction|appreciation|"
            r"support)|welcom\w*|observ\w*|share\w*\s+the\s+view|conclud\w*|aware|convinced|"
            r"understand\w*\s+that|reaffirm\w*\s+(?:the\s+)?importance|the\s+importance\s+of)\b"
        ),
    ),
]

# Plan-of-action lines open with an imperative or an infinitive: "Promote…", "To strengthen…".
_IMPERATIVE = re.compile(
    r"^(?:to\s+)?(?:promote|establish|strengthen|develop|encourage|support|continue|create|"
    r"implement|foster|adopt|carry\s+out|design|consolidate|facilitate|improve|ensure|exchange|"
    r"seek|work|include|incorporate|coordinate|disseminate|undertake|intensify|hold|prepare|"
    r"provide|reinforce|increase|give|organi[sz]e|guarantee|analy[sz]e|identify|combat|prevent|"
    r"advance|contribute|request|instruct|harmoni[sz]e|generate|share|conduct|make|maintain|"
    r"follow|build|enhance|expand|apply|explore|invite|urge|take|"
    # the Global Compact's own openings of its objectives and actions (A/RES/73/195)
    r"manage|eliminate|minimi[sz]e|save|use|empower|invest|cooperate|collect|address|eradicate|"
    r"train|review|update|simplify|assist|safeguard|enable|engage|launch|integrate|reduce|"
    r"enact|conclude|mainstream|raise|collaborate|"
    # decisions of a communiqué ("To accept the proposal … as a reference document")
    r"accept|approve|entrust|commission|"
    # the action verbs of the Spanish verb table (data/verbs_es_en.tsv) that the list above lacked,
    # so that an English plan-of-action line opens as its Spanish infinitive does
    r"elaborate|assess|evaluate|set\s+up|allow|publish|involve|designate|protect|define|draft|"
    r"monitor|mobili[sz]e|pursue|expedite|regulari[sz]e|register|document|detect|guide|offer|"
    r"adapt|link|stimulate|negotiate|sign|comply\s+with|inform|communicate|fight|punish|"
    r"investigate|broaden|deepen|prioriti[sz]e|sensiti[sz]e|present|submit|eradicate)\b"
)
_SUBJECT_VERB = re.compile(
    rf"^(?:[^,;:]{{0,80}}?\b)?{_SUBJECT}\s+{_ADVERBS}(?P<verb>\w+(?:\s+\w+){{0,6}})"
)


# The same reading for Spanish declarations (accents folded): operative paragraphs there are often
# infinitives ("Promover…", "Fortalecer…") or first-person plural ("Acordamos…", "Reconocemos…").
_RULES_ES: list[tuple[str, Category, re.Pattern[str]]] = [
    (
        "affirms a principle or norm",
        Category.PRINCIPLE,
        re.compile(
            r"\b(?:reafirm\w*|reiter\w*|reconoc\w*)\s+(?:el\s+|los\s+|nuestro\s+|su\s+)?"
            r"(?:pleno\s+)?(?:principios?|respeto\s+(?:a|de)|derecho\s+soberano)\b"
        ),
    ),
    (
        "expresses a commitment",
        Category.COMMITMENT,
        re.compile(
            r"\b(?:nos\s+comprometemos|se\s+comprometen|comprometerse|compromiso\s+de\s+\w+r\b|"
            r"acord(?:amos|aron|ar|aron)\s+(?!que)|acuerdan\b|decid(?:imos|ieron|ir)\b|"
            r"(?:estuvieron|estuvimos|estamos|estan)\s+de\s+acuerdo\s+en\s+(?!que)\w+r\b|"
            r"instru(?:ir|imos|yeron|ye|yen)\b|encomend\w*|comisiona\w*|solicit(?:ar|amos|aron)\s+a\b|"
            r"exhort\w*|insta(?:r|mos|ron)?\b|alent(?:ar|amos|aron)\b)"
        ),
    ),
    (
        "names a principle",
        Category.PRINCIPLE,
        re.compile(
            r"\b(?:principios?\s+de|independientemente\s+de\s+(?:su\s+)?(?:condicion|situacion|"
            r"estatus)\s+migratori\w*|no\s+devolucion|derecho\s+soberano)\b"
        ),
    ),
    (
        "states an understanding",
        Category.UNDERSTANDING,
        re.compile(
            r"\b(?:reconoc\w*|tom(?:ar|amos|aron)\s+nota|destac\w*|subray\w*|enfatiz\w*|"
            r"acog\w*\s+con\s+beneplacito|consider\w*\s+que|expres\w*\s+(?:su|nuestra)\s+"
            r"(?:preocupacion|satisfaccion|reconocimiento|agradecimiento)|reafirm\w*\s+(?:la\s+)?"
            r"importancia|la\s+importancia\s+de|acord\w*\s+que|conscientes|convencidos|"
            r"(?:estuvieron|estuvimos|estamos|estan)\s+de\s+acuerdo\s+en\s+que)\b"
        ),
    ),
]
_IMPERATIVE_ES = re.compile(
    r"^(?:promover|establecer|fortalecer|desarrollar|impulsar|fomentar|continuar|crear|"
    r"implementar|adoptar|realizar|facilitar|mejorar|garantizar|asegurar|intercambiar|coordinar|"
    r"difundir|reforzar|incrementar|apoyar|elaborar|trabajar|avanzar|combatir|prevenir|brindar|"
    r"generar|compartir|mantener|ampliar|explorar|invitar|tomar\s+medidas|propiciar|procurar|"
    r"armonizar|identificar|analizar|disenar|ejecutar|consolidar|velar|atender|proteger)\b"
)


# Any Spanish infinitive opening a statement and followed by what follows a verb (an article, a
# determiner, a preposition, "que"): "Gestionar las fronteras…", "Aumentar la disponibilidad…".
# Words ending like an infinitive that open a statement as nouns or adjectives are left out.
_INFINITIVE_ES = re.compile(
    r"^(?P<verb>[a-z]{2,}(?:ar|er|ir))(?:se|nos)?\s+(?:el|la|los|las|lo|un|una|unos|unas|al|a|"
    r"y|e|en|con|de|del|que|su|sus|nuestro|nuestra|nuestros|nuestras|todo|toda|todos|todas|"
    r"este|esta|estos|estas|dicho|dicha|dichos|dichas|mas|mayor|mayores|mejores|sobre|entre|"
    r"por|para|ante|hacia|conjuntamente|plenamente|activamente)\b"
)
_NOT_INFINITIVES = frozenset(
    "lugar hogar mujer poder deber par mar militar particular regular familiar similar popular "
    "titular exterior interior anterior posterior superior inferior mayor menor mejor peor "
    "placer ser haber estar primer tercer seguir".split()
)


def _infinitive_opening(opening: str) -> str | None:
    m = _INFINITIVE_ES.match(opening)
    return m.group("verb") if m and m.group("verb") not in _NOT_INFINITIVES else None


def _cue_es(opening: str) -> Cue | None:
    clause = opening[:200]
    for rule, category, pattern in _RULES_ES[:2]:
        m = pattern.search(clause)
        if m:
            return Cue(category, m.group(0).strip(), rule)
    m = _IMPERATIVE_ES.match(opening)
    if m:
        return Cue(Category.COMMITMENT, m.group(0), "infinitive opening (plan of action)")
    verb = _infinitive_opening(opening)
    if verb:
        return Cue(Category.COMMITMENT, verb, "infinitive opening (plan of action)")
    for rule, category, pattern in _RULES_ES[2:]:
        m = pattern.search(clause)
        if m:
            return Cue(category, m.group(0).strip(), rule)
    return None


def _cue_en(opening: str) -> Cue | None:
    if _IMPERATIVE.match(opening):
        word = (
            opening.split()[0] if not opening.startswith("to ") else " ".join(opening.split()[:2])
        )
        return Cue(Category.COMMITMENT, word, "imperative or infinitive opening (plan of action)")
    clause = governing_clause(opening)
    for rule, category, pattern in _RULES:
        m = pattern.search(clause)
        if m:
            return Cue(category, m.group(0), rule)
    return None


# A list statement reads "Heading: item item …"; its heading ("Return") governs nothing.
_LIST_HEADING = re.compile(r"^\w+[ \w]{0,60}?:\s+")


def governing_clause(text: str) -> str:
    """The words that govern the statement: from its subject's verb, or its first words."""
    folded = fold(text).strip()
    m = _SUBJECT_VERB.match(folded)
    start = m.start("verb") if m else 0
    return folded[start : start + 160]


# A list's heading that names a category ("Principles:", "Principios rectores:", "Commitments:")
# decides the list's category: the heading says what its items are.
_HEADING_CATEGORIES: list[tuple[Category, re.Pattern[str]]] = [
    (Category.PRINCIPLE, re.compile(r"^(?:guiding\s+)?principles?|^principios?(?:\s+rectores)?$")),
    (
        Category.COMMITMENT,
        re.compile(r"^(?:commitments?|actions?|compromisos?|acciones|acuerdos|medidas)$"),
    ),
    (
        Category.UNDERSTANDING,
        re.compile(r"^(?:understandings?|considerations|entendimientos?|consideraciones)$"),
    ),
]


def _heading_cue(folded: str) -> Cue | None:
    m = _LIST_HEADING.match(folded)
    if m is None:
        return None
    heading = m.group(0).rstrip().removesuffix(":").strip()
    for category, pattern in _HEADING_CATEGORIES:
        if pattern.match(heading):
            return Cue(category, heading, "the list's heading names its category")
    return None


@cache
def _guiding_principles() -> frozenset[str]:
    """The Global Compact's ten guiding principles by name, in both languages, folded
    (A/RES/73/195 para. 15; ``rcm.taxonomy``): "national sovereignty", "soberania nacional"."""
    from rcm import taxonomy

    names = {p.name for p in taxonomy.gcm_principles()}
    names |= {taxonomy.label("principle", p.letter, "es") or "" for p in taxonomy.gcm_principles()}
    folded = {fold(n).strip() for n in names if n}
    return frozenset(folded | {n.replace("centred", "centered") for n in folded})


def _principle_heading_cue(folded: str) -> Cue | None:
    """A statement headed by the name of a GCM guiding principle ("National sovereignty: The
    Global Compact reaffirms …") states that principle."""
    head, colon, rest = folded.partition(":")
    if not colon or len(head) > 60 or head.strip() not in _guiding_principles():
        return None
    rest = rest.strip()
    if _IMPERATIVE.match(rest) or _infinitive_opening(rest):
        return None  # a section's title over an action ("Human rights: Promote …")
    return Cue(Category.PRINCIPLE, head.strip(), "the heading names a guiding principle")


def _cue_es_via_english(folded: str) -> Cue | None:
    """A Spanish statement read the English way first, through its gloss ("La CRM reconoce" ->
    "the rcm recognizes"), so that a statement and its translation get the same cue; the
    Spanish rules where the gloss finds nothing."""
    read = gloss(folded)
    english, spanish = _cue_en(read), _cue_es(folded)
    if english is None or (spanish is not None and spanish.category == english.category):
        return spanish  # the Spanish words, where they say the same
    if (
        spanish is not None
        and spanish.phrase == _infinitive_opening(folded)
        and not read.startswith("to ")
    ):
        # an infinitive the gloss does not know: its English reading starts elsewhere
        return spanish
    return english


def governing_cue(text: str, lang: str = "en") -> Cue | None:
    """What the governing verb of ``text`` signals, or None where no rule applies. A list whose
    heading names a category is that category; a leading "…:" is read as a clause first
    ("Instruct the Technical Secretariat to: …"), then, where that finds nothing, as a list
    heading to skip ("Return: To implement …")."""
    folded = fold(text).strip().lstrip("-•·* ")
    cue = _heading_cue(folded) or _principle_heading_cue(folded)
    if cue is not None:
        return cue
    read = _cue_es_via_english if lang == "es" else _cue_en
    cue = read(folded)
    if cue is None and _LIST_HEADING.match(folded):
        cue = read(_LIST_HEADING.sub("", folded, count=1))
    return cue


def _cue_features(texts: Sequence[str], langs: Sequence[str]) -> sparse.csr_matrix:
    rows = []
    order = list(Category)
    for text, lang in zip(texts, langs, strict=True):
        cue = governing_cue(text, lang)
        row = [0.0] * (len(order) + 1)
        if cue is None:
            row[-1] = 1.0
        else:
            row[order.index(cue.category)] = 1.0
        rows.append(row)
    return sparse.csr_matrix(np.array(rows))


@dataclass(frozen=True)
class CategorySuggestion:
    category: Category
    confidence: float
    scores: dict[str, float]
    cue: Cue | None
    evidence: tuple[str, ...]  # the words and cue that weighed most for the chosen category

    def as_dict(self) -> dict[str, object]:
        return {
            "category": self.category.value,
            "confidence": round(self.confidence, 3),
            "scores": {k: round(v, 3) for k, v in self.scores.items()},
            "cue": None
            if self.cue is None
            else {
                "category": self.cue.category.value,
                "phrase": self.cue.phrase,
                "rule": self.cue.rule,
            },
            "evidence": list(self.evidence),
        }


CUE_WEIGHT = 2.0  # the cue counts as much as a couple of strong words (CategorySettings.cue_weight)


@dataclass(frozen=True)
class CategorySettings:
    """The choices a category model is built with. ``SETTINGS`` is what ships; alternatives are
    compared only by nested cross-validation inside training folds (bench/select_suggest.py).

    - ``governing``: the first words of the governing clause (from the subject's verb: "agreed to
      establish", "recognized that the") as their own uni/bigram block, so that the verb that
      governs counts apart from the same word deeper in the sentence;
    - ``chars``: character 3-5-grams of the folded text beside the words;
    - ``clauses``: the cue of every finite clause, not only the first (the curated guideline's rule
      8: a clause anywhere that binds the members to act makes a commitment, a leading
      participle "Recognizing …," never decides), and its rule 6 ("commitment to" an instrument,
      principles or a right, with no action, is a principle);
    - ``c``: the inverse regularisation strength of the logistic regression (of the linear SVM's,
      for ``learner="svm"``);
    - ``cue_weight``: how much the governing cue and the clause readings weigh beside the words;
    - ``learner``: "logreg" (multinomial logistic regression), "svm" (a linear SVM, confidence the
      softmax of its decision values), "cnb" (complement naive Bayes, alpha 0.3) or "ensemble"
      (the mean of the logistic regression's probabilities and those of a second logistic
      regression, C=4, over the governing-clause words, clause readings and cue only)."""

    governing: bool = False
    chars: bool = False
    clauses: bool = False
    c: float = 4.0
    cue_weight: float = CUE_WEIGHT
    learner: str = "logreg"


# A new finite clause: after ";" or a sentence end, or after a comma where a subject follows.
_CLAUSE_BREAK = re.compile(rf"[;.]\s+|,\s+(?:and\s+|but\s+)?(?={_SUBJECT}\s)")
_COMMITMENT_TO_NORM = re.compile(
    r"\bcommitment\s+to\s+(?:the\s+)?(?:(?:full\s+)?(?:fulfil\w*|observance|respect)\s+of\s+"
    r"(?:the\s+)?)?(?:international\s+)?(?:principles?|conventions?|protocols?|instruments?|"
    r"(?:human\s+)?rights?|law)\b"
)


def clause_reading(text: str, lang: str = "en") -> tuple[float, float, float, float]:
    """Which categories the finite clauses of ``text`` signal anywhere (principle, understanding,
    commitment: 1 where some clause's cue says so) and whether it is a "commitment to" a norm."""
    folded = fold(prepare(text, lang)).strip().lstrip("-•·* ")
    m = _LIST_HEADING.match(folded)
    if m is not None and len(m.group(0).split()) <= 3:
        folded = folded[m.end() :]  # a short heading ("Human rights: Promote …")
    found = set()
    for clause in _CLAUSE_BREAK.split(folded):
        cue = _cue_en(clause.strip())
        if cue is not None:
            found.add(cue.category)
    return (
        float(Category.PRINCIPLE in found),
        float(Category.UNDERSTANDING in found),
        float(Category.COMMITMENT in found),
        float(_COMMITMENT_TO_NORM.search(folded) is not None),
    )


def governing_words(text: str, lang: str = "en") -> str:
    """The first words of the governing clause, read in English (a Spanish text's gloss), with a
    short leading list heading ("Return: …") skipped."""
    folded = fold(prepare(text, lang)).strip().lstrip("-•·* ")
    m = _LIST_HEADING.match(folded)
    if m is not None and len(m.group(0).split()) <= 3:
        folded = folded[m.end() :]
    return " ".join(governing_clause(folded).split()[:5])


class CategoryModel:
    """Logistic regression over word uni/bigrams and the governing cue, trained on curated labels.

    Fixed settings (no search over them): balanced class weights, C=4, multinomial (lbfgs); the
    same data always gives the same model."""

    def __init__(
        self,
        texts: Sequence[str],
        labels: Sequence[Category],
        settings: CategorySettings | None = None,
    ) -> None:
        if len(set(labels)) < 2:
            raise ValueError("a category model needs examples of at least two categories")
        self.settings = settings = settings or SETTINGS
        self.vectorizer = TfidfVectorizer(
            preprocessor=fold, ngram_range=(1, 2), min_df=1, sublinear_tf=True
        )
        words = self.vectorizer.fit_transform(texts)
        english = ["en"] * len(texts)
        names = [*self.vectorizer.get_feature_names_out()]
        self.governing = (
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True) if settings.governing else None
        )
        if self.governing is not None:
            self.governing.fit([governing_words(x) for x in texts])
            names += [f"[governs: {n}]" for n in self.governing.get_feature_names_out()]
        self.chars = (
            TfidfVectorizer(
                analyzer="char_wb", preprocessor=fold, ngram_range=(3, 5), sublinear_tf=True
            )
            if settings.chars
            else None
        )
        if self.chars is not None:
            self.chars.fit(texts)
            names += [f"[chars: {n}]" for n in self.chars.get_feature_names_out()]
        if settings.clauses:
            names += [f"[clauses: {n}]" for n in _CLAUSE_NAMES]
        y = [c.value for c in labels]
        self.model = _learner(settings)
        self.model.fit(self._features(words, texts, english), y)
        self.feature_names = [*names, *_CUE_NAMES]
        self.verb_model: tuple[TfidfVectorizer, LogisticRegression] | None = None
        if settings.learner == "ensemble":
            verbs = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
            verbs.fit([governing_words(x) for x in texts])
            second = LogisticRegression(
                C=4.0, class_weight="balanced", solver="lbfgs", max_iter=2000
            )
            self.verb_model = (verbs, second)
            second.fit(self._verb_features(texts, english), y)

    def _verb_features(self, texts: Sequence[str], langs: Sequence[str]) -> sparse.csr_matrix:
        assert self.verb_model is not None
        pairs = list(zip(texts, langs, strict=True))
        clauses = sparse.csr_matrix(np.array([clause_reading(x, lang) for x, lang in pairs]))
        return sparse.hstack(
            [
                self.verb_model[0].transform([governing_words(x, lang) for x, lang in pairs]),
                clauses * self.settings.cue_weight,
                _cue_features(texts, langs) * self.settings.cue_weight,
            ]
        ).tocsr()

    def _probabilities(
        self, x: sparse.csr_matrix, texts: Sequence[str], langs: Sequence[str]
    ) -> np.ndarray:
        if self.settings.learner == "svm":
            margins = self.model.decision_function(x)
            e = np.exp(margins - margins.max(axis=1, keepdims=True))
            return np.asarray(e / e.sum(axis=1, keepdims=True))
        p = np.asarray(self.model.predict_proba(x))
        if self.verb_model is not None:
            p = (p + self.verb_model[1].predict_proba(self._verb_features(texts, langs))) / 2
        return p

    def _features(
        self, words: sparse.csr_matrix, texts: Sequence[str], langs: Sequence[str]
    ) -> sparse.csr_matrix:
        blocks = [words]
        if self.governing is not None:
            blocks.append(
                self.governing.transform(
                    [governing_words(x, lang) for x, lang in zip(texts, langs, strict=True)]
                )
            )
        if self.chars is not None:
            blocks.append(
                self.chars.transform(
                    [prepare(x, lang) for x, lang in zip(texts, langs, strict=True)]
                )
            )
        if self.settings.clauses:
            rows = [clause_reading(x, lang) for x, lang in zip(texts, langs, strict=True)]
            blocks.append(sparse.csr_matrix(np.array(rows)) * self.settings.cue_weight)
        blocks.append(_cue_features(texts, langs) * self.settings.cue_weight)
        return sparse.hstack(blocks).tocsr()

    def suggest_many(
        self, texts: Sequence[str], langs: Sequence[str] | None = None
    ) -> list[CategorySuggestion]:
        """``langs``: each text's language ("en" when not given); a Spanish text's words are read
        through the glossary (``rcm.suggest.lang``), its cue from the Spanish."""
        langs = list(langs) if langs is not None else ["en"] * len(texts)
        read = [prepare(text, lang) for text, lang in zip(texts, langs, strict=True)]
        x = self._features(self.vectorizer.transform(read), texts, langs)
        probabilities = self._probabilities(x, texts, langs)
        classes = [Category(c) for c in self.model.classes_]
        coef = _weights(self.model)
        out = []
        for i, text in enumerate(texts):
            best = int(np.argmax(probabilities[i]))
            cue = governing_cue(text, langs[i])
            confidence = float(probabilities[i][best])
            if cue is not None and cue.rule in DECISIVE_RULES and cue.category in classes:
                # the document says what it is: the words' scores stay as they weigh
                best, confidence = classes.index(cue.category), 1.0
            category = classes[best]
            # one row of weights per class (a single row when there are only two classes)
            weights = coef[best] if coef.shape[0] > 1 else (coef[0] if best == 1 else -coef[0])
            row = x.getrow(i)
            contributions = sorted(
                ((row.data[k] * weights[j], j) for k, j in enumerate(row.indices)), reverse=True
            )
            evidence = tuple(self.feature_names[j] for value, j in contributions[:4] if value > 0)
            out.append(
                CategorySuggestion(
                    category=category,
                    confidence=confidence,
                    scores={
                        c.value: float(p) for c, p in zip(classes, probabilities[i], strict=True)
                    },
                    cue=cue,
                    evidence=evidence,
                )
            )
        return out


# Cues that decide, whatever the words weigh: the document itself says what the statement is (a
# list under "Principles:", a paragraph headed by the name of a GCM guiding principle).
DECISIVE_RULES = frozenset(
    {"the list's heading names its category", "the heading names a guiding principle"}
)


def _learner(settings: CategorySettings) -> Any:
    if settings.learner == "logreg" or settings.learner == "ensemble":
        return LogisticRegression(
            C=settings.c, class_weight="balanced", solver="lbfgs", max_iter=2000
        )
    if settings.learner == "svm":
        from sklearn.svm import LinearSVC

        return LinearSVC(C=settings.c, class_weight="balanced", max_iter=5000)
    if settings.learner == "cnb":
        from sklearn.naive_bayes import ComplementNB

        return ComplementNB(alpha=0.3)
    raise ValueError(f"unknown learner {settings.learner!r}")


def _weights(model: Any) -> np.ndarray:
    """One row of feature weights per class (a single row for two classes)."""
    if hasattr(model, "coef_"):
        return np.asarray(model.coef_)
    return np.asarray(model.feature_log_prob_)  # complement naive Bayes: its per-class weights


_CUE_NAMES = [f"[cue: {c.value}]" for c in Category] + ["[cue: none]"]
_CLAUSE_NAMES = ["principle", "understanding", "commitment", "commitment to a norm"]
# Selected by nested cross-validation inside training folds (bench/select_suggest.py,
# bench/results/select_suggest.json), never on the evaluation's test folds.
SETTINGS = CategorySettings(governing=False, chars=True, clauses=True, c=16.0)


def rule_category(text: str, default: Category) -> Category:
    """The keyword-rule baseline: the cue's category, else ``default``."""
    cue = governing_cue(text)
    return cue.category if cue else default
