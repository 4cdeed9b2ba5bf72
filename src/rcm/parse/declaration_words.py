"""The words a declaration reader recognises, as tables: the operative verbs of the RCM's
declarations in English and Spanish (conjugated here in every person, number and tense a
declaration uses), the bodies whose declarations are not the RCM's, the marks of a news article
and of an empty template, and the list headings that name a category.

The tables are data; :mod:`rcm.parse.declaration` builds its patterns from them. Adding a verb
means adding a word to a table, never another ``if``.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "EN_DECLARING",
    "ES_DECLARING",
    "ES_IMPERATIVE",
    "OTHER_BODIES",
    "RCM_NAMES",
    "es_forms",
    "fold",
    "meeting_report",
]


def fold(text: str) -> str:
    """Lower case, accents removed, length kept ("Reconoció" -> "reconocio")."""
    return "".join(
        (unicodedata.normalize("NFKD", ch)[:1] or ch) if ch.isalpha() else ch for ch in text
    ).lower()


# --- English ----------------------------------------------------------------------

# What the Vice-Ministers, the RCM or "we" do in an operative paragraph, in any tense: a subject
# before one of these verbs opens a statement ("The RCM recognizes …", "The CRM recognized …").
EN_DECLARING = (
    "accept acknowledge adopt advance affirm agree applaud approve call commend commit condemn "
    "congratulate consider continue decide declare discuss emphasize emphasise encourage endorse "
    "entrust establish exchange express highlight instruct intend invite mandate note pledge point "
    "promote propose reaffirm recall recognize recognise recommend reiterate reject renew request "
    "resolve review share stress strengthen support take thank underline underscore urge welcome "
    "ratify renew restate value appreciate"
)
# "We would like to reiterate …", "We wish to express …", "We are committed to …".
EN_MODAL = (
    r"(?:would\s+like\s+to|wish\s+to|want\s+to|intend\s+to|seek\s+to|hereby|will|shall|must"
    r"|should|are\s+(?:committed|determined|resolved|convinced)|remain\s+committed)"
)

# --- Spanish ----------------------------------------------------------------------

# Spanish verbs a declaration's subject governs ("La CRM reconoce", "Los Viceministros acordaron",
# "Acordamos") and that open a plan of action in the infinitive ("Promover …"), by infinitive.
# Stem-changing verbs give their present stem after a colon ("acordar:acuerd").
ES_DECLARING = (
    "aceptar acoger acordar:acuerd adoptar agradecer alentar:alient apoyar aprobar:aprueb "
    "avanzar celebrar comisionar comprometer condenar considerar continuar convenir:convien "
    "declarar decidir destacar encomendar:encomiend enfatizar exhortar expresar felicitar "
    "impulsar instar instruir:instruy invitar manifestar:manifiest promover:promuev "
    "ratificar reafirmar recomendar:recomiend reconocer recordar:recuerd rechazar reiterar "
    "renovar:renuev resaltar resolver:resuelv respaldar saludar señalar solicitar someter "
    "subrayar tomar valorar fortalecer"
)
# Infinitives that open a plan-of-action line (besides the declaring verbs above).
ES_IMPERATIVE = (
    "ampliar analizar armonizar asegurar asistir atender brindar buscar colaborar combatir "
    "compartir compilar consolidar contribuir coordinar crear desarrollar difundir diseñar "
    "elaborar "
    "establecer evaluar explorar facilitar fomentar garantizar generar identificar implementar "
    "incluir incorporar incrementar integrar intensificar intercambiar mantener mejorar "
    "participar prevenir procurar propiciar proteger proporcionar publicar realizar reducir "
    "reforzar sensibilizar trabajar velar ejecutar promover profundizar dar hacer llevar "
    "presentar preparar organizar priorizar"
)
# Irregular forms the rules below do not make (folded).
_ES_IRREGULAR = {
    "hacer": "hace hacen hizo hicieron hacemos hicimos hara haran haremos",
    "dar": "da dan dio dieron damos dimos dara daran daremos",
    "convenir": "conviene convienen convino convinieron convenimos convendra convendran",
    "instruir": "instruye instruyen instruyo instruyeron instruimos instruira instruiran",
    "contribuir": "contribuye contribuyen contribuyo contribuyeron contribuimos",
}


def es_forms(infinitive: str, present_stem: str | None = None) -> list[str]:
    """The folded forms of a Spanish verb a declaration uses: infinitive (and with "se"),
    third person present, preterite and future, first person plural present and preterite."""
    inf = fold(infinitive)
    stem, ending = inf[:-2], inf[-2:]
    p = fold(present_stem) if present_stem else stem
    if ending == "ar":
        forms = [
            f"{p}a", f"{p}an", f"{stem}o", f"{stem}aron", f"{stem}amos", f"{stem}ara",
            f"{stem}aran", f"{stem}aremos", f"{stem}aba", f"{stem}aban",
        ]  # fmt: skip
    elif ending == "er":
        forms = [
            f"{p}e", f"{p}en", f"{stem}io", f"{stem}ieron", f"{stem}emos", f"{stem}imos",
            f"{stem}era", f"{stem}eran", f"{stem}eremos", f"{stem}ia", f"{stem}ian",
        ]  # fmt: skip
    else:
        forms = [
            f"{p}e", f"{p}en", f"{stem}io", f"{stem}ieron", f"{stem}imos", f"{stem}ira",
            f"{stem}iran", f"{stem}iremos", f"{stem}ia", f"{stem}ian",
        ]  # fmt: skip
    forms += [inf, f"{inf}se", f"{inf}nos"]
    forms += _ES_IRREGULAR.get(inf, "").split()
    return forms


def _es_table(words: str) -> tuple[list[str], list[str]]:
    """(conjugated forms, infinitives) of a table of "infinitive[:present stem]" words."""
    conjugated: list[str] = []
    infinitives: list[str] = []
    for entry in words.split():
        inf, _, present = entry.partition(":")
        forms = es_forms(inf, present or None)
        infinitives.append(fold(inf))
        conjugated += [f for f in forms if f != fold(inf)]
    return conjugated, infinitives


ES_CONJUGATED, ES_DECLARING_INFINITIVES = _es_table(ES_DECLARING)
_, ES_IMPERATIVE_INFINITIVES = _es_table(ES_IMPERATIVE)
# "hace un llamado", "hicieron un llamado": the verb phrase, not the verb alone, is operative.
ES_PHRASES = (
    r"(?:hace|hacen|hizo|hicieron|hacemos|hacer)\s+(?:un\s+)?(?:llamado|llamamiento)"
    # "Estuvieron de acuerdo en que …" (they agreed that …)
    r"|(?:estuvieron|estuvimos|estamos|estan|estuvo|esta|estar)\s+de\s+acuerdo"
)

# --- who issued the text ------------------------------------------------------------------------

# The RCM under its names: a declaration of the RCM names it somewhere.
RCM_NAMES = re.compile(
    r"\b(?:rcm|crm|regional\s+conference\s+on\s+migration|conferencia\s+regional\s+sobre"
    r"\s+migraci[oó]n|puebla\s+process|proceso\s+(?:de\s+)?puebla|vice[\s-]?minist\w+)\b",
    re.I,
)
# Bodies whose declarations look like the RCM's but are not: named in a title or an opening line
# with no mention of the RCM, they mean the file is another body's declaration.
OTHER_BODIES = re.compile(
    r"\b(?:south\s+american\s+conference\s+on\s+migrations?|conferencia\s+s[ou][dr]americana"
    r"|(?:conferencia|cumbre|conference|summit)\s+ibero-?americana?|ibero-?american[oa]?s"
    r"|comunidad\s+andina|andean\s+community|caricom|pacific\s+alliance|alianza\s+del\s+pac[ií]fico"
    r"|(?:los\s+angeles|los\s+[aá]ngeles)\s+declaration|declaraci[oó]n\s+de\s+los\s+[aá]ngeles"
    r"|global\s+forum\s+on\s+migration|foro\s+mundial\s+sobre\s+migraci[oó]n"
    r"|international\s+migration\s+review\s+forum|foro\s+de\s+examen\s+de\s+la\s+migraci[oó]n"
    r"|organi[sz]ation\s+of\s+american\s+states|organizaci[oó]n\s+de\s+(?:los\s+)?estados"
    r"\s+americanos|oas|oea|mercosur|sica|celac|unasur|african\s+union|uni[oó]n\s+africana"
    r"|european\s+union|uni[oó]n\s+europea|general\s+assembly|asamblea\s+general|security"
    r"\s+council|consejo\s+de\s+seguridad|(?:bali|budapest|rabat|khartoum|colombo|prague|almaty)"
    r"\s+process|proceso\s+de\s+(?:rabat|budapest|bali|quito)|quito\s+process|igad|asean"
    r"|summit\s+of\s+the\s+americas|cumbre\s+de\s+las\s+am[eé]ricas|g20|g7"
    r"|world\s+health\s+assembly|human\s+rights\s+council|consejo\s+de\s+derechos\s+humanos)\b",
    re.I,
)
# A title that says whose declaration it is ("Declaration of the …", "Declaración de …").
DECLARATION_OF = re.compile(
    r"^(?:joint\s+|final\s+)?(?:declaration|communiqu[eé]|statement|declaraci[oó]n|comunicado)"
    r"(?:\s+conjunto|\s+final|\s+conjunta)?\s+(?:of|by|de|del)\s+(?:the\s+|la\s+|el\s+|los\s+)?",
    re.I,
)

# --- not a declaration at all ---------------------------------------------------------------------

# A news article reports: a byline, a dateline with an agency, reported speech.
NEWS_MARKS = re.compile(
    r"^(?:by|por)\s+[A-ZÁÉÍÓÚ][\w.'-]+(?:\s+[A-ZÁÉÍÓÚ][\w.'-]+){0,3}$"
    r"|\((?:reuters|ap|afp|efe|ansa|dpa|xinhua|europa\s+press|notimex)\)"
    r"|^(?:published|updated|publicado|actualizado)\b"
    r"|\b(?:\d+\s+(?:min|minutes?|minutos?)\s+(?:read|de\s+lectura))\b"
    # a dateline: "Mexico City, 4 December 2021 (TDI):", "Guatemala, 7 mayo (Diestra).-",
    # "MÉXICO, 02 de diciembre de 2021.- Al inaugurar …"
    r"|\b\d{1,2}(?:\s+de)?\s+[a-zé]{3,10}(?:\s+(?:de\s+)?\d{4})?\s*"
    r"\([A-Z][\w /]{1,15}\)\s*[.:]?\s*[-–—:]"
    r"|\b\d{1,2}\s+de\s+[a-z]{3,10}\s+de\s+\d{4}\s*\.\s*[-–—]\s"
    # a place alone as a dateline: "Ciudad de México.- Al participar …" (not "XIII.- ")
    r"|^(?![IVXLC]+\.)[A-ZÁÉÍÓÚ][^\n.:;]{2,40}\.\s*[-–—](?=\s+[A-ZÁÉÍÓÚ])"
    # the day of the week of an event ("este viernes", "on Friday"): news, not a declaration
    r"|\b(?:este|el|el\s+pasado|este\s+pasado)\s+(?:lunes|martes|mi[eé]rcoles|jueves|viernes"
    r"|s[aá]bado|domingo)\b|\bon\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
    # a page's furniture, a reporter's handle ("@RosmeriAlfaro")
    r"|^@\w{3,30}$"
    r"|^(?:fotos?|photos?|informaci[oó]n\s+relacionada|related(?:\s+news)?|leer\s+m[aá]s"
    r"|read\s+more|escrito\s+en|compartir|share\s+this)\b",
    re.I | re.M,
)
REPORTED_SPEECH = re.compile(
    r"\b(?:said|says|told\s+(?:reporters|journalists|the)|according\s+to|reported|spokesperson"
    r"|dijo|afirm[oó]\s+(?:que|a)|señal[oó]\s+que|seg[uú]n\s+(?:el|la|los|las|fuentes)"
    r"|declar[oó]\s+a|inform[oó]\s+(?:que|a)|explic[oó]\s+que|portavoz|periodistas|reporters)\b"
    # a quotation and who said it: "…”, señaló", ", subrayó Encinas", "señaló el subsecretario"
    r"|[”\"»]\s*,?\s*(?:dijo|señal[oó]|subray[oó]|afirm[oó]|indic[oó]|explic[oó]|asegur[oó]"
    r"|destac[oó]|agreg[oó]|añadi[oó]|puntualiz[oó]|added|noted|stated|explained)\b"
    r"|,\s*(?:dijo|señal[oó]|subray[oó]|afirm[oó]|indic[oó]|explic[oó]|asegur[oó]|agreg[oó]"
    r"|añadi[oó]|puntualiz[oó])\s+(?-i:[A-ZÁÉÍÓÚ][a-záéíóú]+)(?!\s+(?:de|del|la)\b)"
    r"|stated\s+that|(?:expres|manifest)[oó]\s+que"
    r"|de\s+acuerdo\s+con\s+(?:el|la)\s+(?:ministr|canciller|vicecanciller|subsecretari|secretari"
    r"|president|director|portavoz|vocero)\w*"
    # the declaration spoken of from outside: "In the meeting's Declaration, …", "emitió una
    # declaración final", "The declaration of the Vice Ministers likewise recognizes …"
    r"|\bthe\s+meeting['’]s\s+declaration|\bin\s+(?:the|its)\s+(?:final\s+)?declaration,"
    r"|(?:emiti[oó]|issued|released)\s+(?:una|la|a|the)\s+(?:final\s+)?declaraci[oó]n|"
    r"(?:emiti[oó]|issued|released)\s+(?:una|la|a|the)\s+(?:final\s+)?declaration"
    r"|\bthe\s+declaration\s+of\s+the\s+vice[\s-]?ministers\s+(?:also\s+|likewise\s+)?\w+s\b"
    # an official named as a news report names one ("el subsecretario … Alejandro Encinas")
    r"|\b(?:el|la|del|de\s+la|the)\s+(?:subsecretari[oa]|secretari[oa]|ministr[oa]|canciller"
    r"|vicecanciller|embajador[a]?|undersecretary|minister|ambassador|foreign\s+minister)\b"
    r"[^.;]{0,120}?\s(?-i:[A-ZÁÉÍÓÚ][a-záéíóú]+\s+[A-ZÁÉÍÓÚ][a-záéíóú]+\s+[A-ZÁÉÍÓÚ][a-záéíóú]+)",
    re.I,
)
# The blanks of a template: "[country]", "XX de XXXX", "____", "Lorem ipsum", "<insert …>".
PLACEHOLDER = re.compile(
    r"\[[^\]]{0,60}\]|<[^>]{0,60}>|_{3,}|\.{4,}|…{2,}|\bx{2,}\b|\blorem\s+ipsum\b"
    r"|\b(?:insert|insertar|inserte|texto\s+del|text\s+of\s+the)\b",
    re.I,
)

# --- the report of the meeting itself -------------------------------------------------------------

# Sentences about the meeting, not decisions of it: where and when it was held, who attended, who
# chaired ("La reunión se celebró en …", "Participaron …", "The meeting was chaired by …",
# "Delegations from … attended"). They are context, like the preamble, in any tense. Read on
# folded text; the group ``verb`` is where the report's verb stands, so a reader can tell it from
# an operative verb that comes first ("The Vice-Ministers welcomed the delegations that attended").
MEETING_NOUNS = (
    "reunion reuniones sesion sesiones encuentro conferencia cumbre foro taller seminario "
    "dialogo evento crm meeting meetings session sessions conference summit forum workshop "
    "seminar dialogue event rcm"
)
_NOUN = "(?:" + "|".join(MEETING_NOUNS.split()) + ")"
_EN_BE = r"(?:was|were|is|are|has\s+been|have\s+been|had\s+been|will\s+be)"
_EN_REPORTED = (
    r"(?:held|convened|chaired|co-?chaired|presided(?:\s+over)?|opened|inaugurated|closed"
    r"|attended|hosted|co-?hosted|moderated|organi[sz]ed)"
)
# after a subject: "The meeting was held", "Delegations from … attended", "Mexico chaired …"
_EN_AFTER_SUBJECT = (
    rf"{_EN_BE}\s+(?:(?:also|jointly|successfully|formally|officially|virtually)\s+)?{_EN_REPORTED}"
    r"|attend(?:s|ed)?|participat(?:e|es|ed)\s+(?:in|as|at)|t(?:ook|akes?)\s+(?:part|place)"
    r"|(?:was|were|is|are)\s+(?:also\s+)?present|(?:co-?)?chair(?:s|ed)|presid(?:es|ed)"
    r"|host(?:s|ed)"
)
# opening the sentence: "Attended by …", "Also present were …", "Participants included …"
_EN_LEADING = (
    r"(?:attended|chaired|co-?chaired|presided(?:\s+over)?|hosted)\s+by|(?:also\s+)?present\s+"
    r"(?:were|are|at\s+the)|in\s+attendance|participating\s+(?:were|are|in\s+the\s+"
    rf"{_NOUN})|(?:the\s+)?participants\s+(?:included|include|were)|with\s+the\s+participation\s+of"
)
_ES_REPORTED = (
    r"(?:celebrad|realizad|presidid|copresidid|inaugurad|clausurad|convocad|organizad|moderad"
    r"|auspiciad)[oa]s?|llevad[oa]s?\s+a\s+cabo"
)
# "se celebró" and "se realizó" report a meeting only when a meeting is their subject or object
# ("La reunión se celebró …", "Se celebró la XXX Reunión …"); "Se celebra la adopción …" welcomes.
_ES_HELD = (
    r"se\s+(?:celebr|realiz|desarroll)(?:o|a|aron|an|ara|aran)"
    r"|se\s+(?:llevo|lleva|llevaron|llevan|llevara)\s+a\s+cabo"
)
_ES_AFTER_SUBJECT = (
    rf"(?:fue|fueron|es|son|ha\s+sido|han\s+sido|sera|seran|estuvo|estuvieron)\s+{_ES_REPORTED}"
    r"|(?:tuvo|tiene|tendra)\s+lugar|se\s+reuni(?:o|eron|e|en)|sesion(?:o|aron|a|an)"
    r"|(?:co)?presid(?:io|ieron|e|en)|asist(?:io|ieron|e|en)\b(?!\s+a\s+(?:las|los)\s+(?:personas"
    r"|victimas|migrantes))|particip(?:o|aron|a|an)\s+(?:en|como|de)"
    r"|estuv(?:o|ieron)\s+presentes?|conto\s+con\s+la\s+(?:participacion|presencia|asistencia)"
    r"|(?:fue|sera)\s+(?:sede|anfitrion\w*)|sirvio\s+de\s+sede"
)
_ES_LEADING = (
    r"(?:participaron|asistieron|participo|asistio|participan|asisten)\s+(?:en|a|como|los|las"
    r"|el|la|representantes|delegaciones)|estuv(?:o|ieron)\s+presentes?|(?:co)?presid(?:io|ieron)"
    r"|(?:se\s+)?conto\s+con\s+la\s+(?:participacion|presencia|asistencia)"
    r"|con\s+la\s+(?:participacion|presencia|asistencia)\s+de|tuvo\s+lugar"
)
_HELD = re.compile(
    rf"^(?P<subject>[^;:.]{{1,300}}?\s+)?(?P<verb>{_ES_HELD})\b"
    rf"(?P<object>\s+(?:el|la|los|las)\s+(?:[\w-]+\s+){{0,2}}?{_NOUN}\b)?"
)
_LEADING = re.compile(rf"^(?P<verb>{_EN_LEADING}|{_ES_LEADING})\b")
_AFTER_SUBJECT = re.compile(
    rf"^[^;:.]{{1,300}}?\s+(?P<verb>{_EN_AFTER_SUBJECT}|{_ES_AFTER_SUBJECT})\b"
)
_A_MEETING = re.compile(rf"\b{_NOUN}\b")


def meeting_report(folded: str) -> int | None:
    """Where the verb of a report on the meeting itself stands in a folded sentence ("la reunion
    se celebro …" -> 11), or None when the sentence does not report on the meeting."""
    starts = []
    held = _HELD.match(folded)
    if held and (held.group("object") or _A_MEETING.search(held.group("subject") or "")):
        starts.append(held.start("verb"))
    for pattern in (_LEADING, _AFTER_SUBJECT):
        m = pattern.match(folded)
        if m:
            starts.append(m.start("verb"))
    return min(starts, default=None)
