"""Questions in Spanish and French for the rule-based parser: which language a question is in, and the
same question in the plain English forms the parser and the date phrases understand.

"¿Cuánto vendí ayer?" -> ``"how much sold yesterday"``; "¿Quién me debe?" -> ``"who owes"``; "Combien
j'ai vendu hier ?" -> ``"how much sold yesterday"``; "¿Cuántas Presidente vendimos el viernes pasado?"
-> ``"how many presidente sold last friday"``; "ventes de la semaine dernière" -> ``"sales last week"``.

The rewrite only touches question words, verbs, pronouns and date phrases (each language's own list,
longest phrases first); product names pass through (accents dropped, as the product matcher compares
names without them).  :func:`english_period` does the same for a period a model passes to a tool in
the user's words ("la semana pasada").  Nothing here answers anything: the answer's words come from the
catalogues in the language :func:`question_language` finds (else the store's).
"""

from __future__ import annotations

import re
import unicodedata

from analytics.llm.language import LANGUAGES, language_code

__all__ = ["LANGUAGES", "english_period", "english_question", "language_code", "plain", "question_language"]

_ES_MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
              "noviembre", "diciembre")
_FR_MONTHS = ("janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout", "septembre", "octobre",
              "novembre", "decembre")
_EN_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
              "november", "december")
_ES_DAYS = ("lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo")
_FR_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_EN_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# words that tell a language apart (accent-free, lower case); words the languages share are left out
_MARKERS = {
    "en": frozenset("what how who which sales sold sell yesterday today week month year top best my the last this "
                    "owes owe busiest forecast reorder customers products many much were was did".split()),
    "es": frozenset("cuanto cuanta cuantos cuantas vendi vendimos vendio vendieron vendido vender venta ventas quien "
                    "quienes debe deben deuda deudas ayer hoy anteayer semana pasado pasada este esta cual cuales "
                    "mejores clientes productos hora dia dias pronostico inventario existencias quedan queda "
                    "mas vendidos por favor ano gane ganamos ingresos fiado hemos".split()),
    "fr": frozenset("combien vendu vendus vendue vendues vente ventes qui doit doivent hier aujourd'hui avant-hier "
                    "semaine dernier derniere cette quel quelle quels quelles meilleurs meilleures produits heure "
                    "jour jours prevision previsions reste restent annee chiffre d'affaires j'ai ai avons "
                    "dois-je faut-il commander moi argent plus pour".split()),
}


def plain(text: str) -> str:
    """Lower case, accents dropped, typographic apostrophes made plain, spaces squeezed."""
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'").replace("\u00a0", " "))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).lower().split())


def question_language(question: str) -> str | None:
    """``en``, ``es`` or ``fr`` when the question's words say so clearly; None when they do not
    (a product name alone, a date)."""
    words = re.findall(r"[a-z']+(?:-[a-z]+)?", plain(question).replace("¿", " ").replace("¡", " "))
    words += [w.split("'", 1)[1] for w in words if "'" in w and w.split("'", 1)[0] in ("j", "l", "d", "qu")]
    scores = {lang: sum(1 for w in words if w in marks) for lang, marks in _MARKERS.items()}
    if "¿" in question or "¡" in question:
        scores["es"] += 2
    best = max(scores, key=lambda lang: scores[lang])
    ranked = sorted(scores.values(), reverse=True)
    if ranked[0] == 0 or ranked[0] == ranked[1]:
        return None
    return best


def _alternation(words: tuple[str, ...]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


def _month_map(names: tuple[str, ...]) -> dict[str, str]:
    return dict(zip(names, _EN_MONTHS, strict=True))


_ES_MONTH = _alternation(_ES_MONTHS + ("setiembre",))
_FR_MONTH = _alternation(_FR_MONTHS)
_ES_DAY = _alternation(_ES_DAYS)
_FR_DAY = _alternation(_FR_DAYS)
_ES_MONTH_EN = _month_map(_ES_MONTHS) | {"setiembre": "september"}
_FR_MONTH_EN = _month_map(_FR_MONTHS)
_ES_DAY_EN = dict(zip(_ES_DAYS, _EN_DAYS, strict=True))
_FR_DAY_EN = dict(zip(_FR_DAYS, _EN_DAYS, strict=True))
_UNITS_ES = {"dia": "days", "dias": "days", "semana": "weeks", "semanas": "weeks", "mes": "months", "meses": "months"}
_UNITS_FR = {"jour": "days", "jours": "days", "semaine": "weeks", "semaines": "weeks", "mois": "months"}


def _dates_es(t: str) -> str:
    m_en, d_en = _ES_MONTH_EN, _ES_DAY_EN
    t = re.sub(r"\b(?:anteayer|antier|antes de ayer)\b", " the day before yesterday ", t)
    t = re.sub(r"\besta manana\b", " this morning ", t)
    t = re.sub(r"\b(?:esta noche|anoche)\b", " tonight ", t)
    t = re.sub(r"\bayer\b", " yesterday ", t)
    t = re.sub(r"\bhoy\b", " today ", t)
    t = re.sub(r"\b(?:(?:en )?(?:los|las) )?(?:ultim[oa]s|pasad[oa]s) (\d{1,3}) (dias?|semanas?|mes(?:es)?)\b",
               lambda m: f" last {m.group(1)} {_UNITS_ES[m.group(2)]} ", t)
    t = re.sub(r"\b(?:(?:en )?(?:los|las) )?(?:proxim[oa]s|siguientes) (\d{1,3}) dias?\b",
               lambda m: f" next {m.group(1)} days ", t)
    t = re.sub(rf"\b(?:el |la )?({_ES_DAY}) (?:pasado|anterior)\b", lambda m: f" last {d_en[m.group(1)]} ", t)
    t = re.sub(rf"\b(?:este|esta) ({_ES_DAY})\b", lambda m: f" this {d_en[m.group(1)]} ", t)
    t = re.sub(r"\b(?:la |esta )?semana (?:pasada|anterior)\b", " last week ", t)
    t = re.sub(r"\b(?:el |este )?mes (?:pasado|anterior)\b", " last month ", t)
    t = re.sub(r"\b(?:el |este )?ano (?:pasado|anterior)\b", " last year ", t)
    t = re.sub(r"\b(?:la )?(?:semana (?:proxima|que viene)|proxima semana)\b", " next week ", t)
    t = re.sub(r"\b(?:en |durante )?esta semana\b", " this week ", t)
    t = re.sub(r"\b(?:en |durante )?este mes\b", " this month ", t)
    t = re.sub(r"\b(?:en |durante )?este ano\b", " this year ", t)
    t = re.sub(r"\bmanana\b", " tomorrow ", t)
    # "3 de marzo de 2026", "marzo de 2026", "en marzo"
    t = re.sub(rf"\b(?:el )?(\d{{1,2}}) de ({_ES_MONTH})(?: (?:de|del) (\d{{4}}))?\b",
               lambda m: f" {m.group(1)} {m_en[m.group(2)]}" + (f" {m.group(3)} " if m.group(3) else " "), t)
    t = re.sub(rf"\b({_ES_MONTH}) (?:de|del) (\d{{4}})\b", lambda m: f" {m_en[m.group(1)]} {m.group(2)} ", t)
    t = re.sub(rf"\b({_ES_MONTH})\b", lambda m: m_en[m.group(1)], t)
    t = re.sub(rf"\b(?:el )?({_ES_DAY})\b", lambda m: f" on {d_en[m.group(1)]} ", t)
    t = re.sub(r"\bentre (.+?) y ", r" between \1 and ", t)
    t = re.sub(r"\b(?:desde|a partir de)(?: el)? ", " since ", t)
    t = re.sub(r"\bdel (\d{4}-\d{2}-\d{2}) al (\d{4}-\d{2}-\d{2})\b", r" from \1 to \2 ", t)
    t = re.sub(r"\ben (?=(?:" + _alternation(_EN_MONTHS) + r"|\d{4})\b)", " in ", t)
    return t


def _dates_fr(t: str) -> str:
    m_en, d_en = _FR_MONTH_EN, _FR_DAY_EN
    t = re.sub(r"\bavant[- ]hier\b", " the day before yesterday ", t)
    t = re.sub(r"\bce matin\b", " this morning ", t)
    t = re.sub(r"\bce soir\b", " tonight ", t)
    t = re.sub(r"\bhier\b", " yesterday ", t)
    t = re.sub(r"\baujourd'hui\b", " today ", t)
    t = re.sub(r"\b(?:(?:durant |pendant |sur |dans )?les )?(\d{1,3}) (?:derniers|dernieres) (jours?|semaines?|mois)\b",
               lambda m: f" last {m.group(1)} {_UNITS_FR[m.group(2)]} ", t)
    t = re.sub(r"\b(?:(?:pour |durant |sur )?les )?(\d{1,3}) prochains jours\b", lambda m: f" next {m.group(1)} days ",
               t)
    t = re.sub(rf"\b(?:le )?({_FR_DAY}) (?:dernier|passe)\b", lambda m: f" last {d_en[m.group(1)]} ", t)
    t = re.sub(rf"\bce ({_FR_DAY})\b", lambda m: f" this {d_en[m.group(1)]} ", t)
    t = re.sub(r"\b(?:de |pour |sur )?la semaine (?:derniere|passee)\b", " last week ", t)
    t = re.sub(r"\b(?:du |pour |sur )?le mois (?:dernier|passe)\b", " last month ", t)
    t = re.sub(r"\b(?:de |pour |sur )?l'annee (?:derniere|passee)\b", " last year ", t)
    t = re.sub(r"\b(?:de |pour |sur )?la semaine prochaine\b", " next week ", t)
    t = re.sub(r"\b(?:de |pour |sur )?cette semaine\b", " this week ", t)
    t = re.sub(r"\b(?:de |pour |sur )?ce mois(?:-ci)?\b", " this month ", t)
    t = re.sub(r"\b(?:de |pour |sur )?cette annee\b", " this year ", t)
    t = re.sub(r"\bdemain\b", " tomorrow ", t)
    t = re.sub(rf"\b(?:le )?(\d{{1,2}})(?:er)? ({_FR_MONTH})(?: (\d{{4}}))?\b",
               lambda m: f" {m.group(1)} {m_en[m.group(2)]}" + (f" {m.group(3)} " if m.group(3) else " "), t)
    t = re.sub(rf"\b({_FR_MONTH})\b", lambda m: m_en[m.group(1)], t)
    t = re.sub(rf"\b(?:le )?({_FR_DAY})\b", lambda m: f" on {d_en[m.group(1)]} ", t)
    t = re.sub(r"\bentre (.+?) et ", r" between \1 and ", t)
    t = re.sub(r"\bdepuis(?: le)? ", " since ", t)
    t = re.sub(r"\bdu (\d{4}-\d{2}-\d{2}) au (\d{4}-\d{2}-\d{2})\b", r" from \1 to \2 ", t)
    t = re.sub(r"\ben (?=(?:" + _alternation(_EN_MONTHS) + r"|\d{4})\b)", " in ", t)
    return t


# (pattern, replacement) on accent-free lower-case text, in order; question words and verbs only
_WORDS_ES: tuple[tuple[str, str], ...] = (
    # margins (issue 27, analytics/assistant/margins.py): before "ganancia" is read as revenue
    ((r"\b(?:me |nos )?(?:dejan|deja|dejaron|dejo|dan|da|generan|genera|producen|produce) (?:el )?mas "
      r"(?:dinero|ganancias?|beneficios?)\b"), " make the most money "),
    (r"\bmas rentables?\b", " most profitable "),
    ((r"\b(?:(?:me |nos )?(?:pierden|pierde|perdieron|perdio) dinero|(?:dan|da) perdidas?|con perdidas?|"
      r"(?:por )?debajo del? costo)\b"), " lose money "),
    (r"\b(?:margen|margenes) (?:de ganancia )?(?:de|del|en|sobre|con) ", " margin on "),
    (r"\b(?:margen|margenes)\b", " margin "),
    (r"\b(?:stock|inventario|existencias?) (?:de|del) ", " stock of "),
    (r"\bque (?:productos? )?(?:debo|deberia|tengo que|hay que|necesito) (?:pedir|comprar|reponer|reordenar)\b",
     " reorder "),
    (r"\b(?:reponer|reordenar|reabastecer|se (?:me )?(?:acaba|acaban|agota|agotan)|por agotarse)\b", " reorder "),
    (r"\b(?:quien(?:es)?|a quien) (?:me )?(?:debe|deben|adeuda|adeudan)\b", " who owes "),
    (r"\b(?:me )?(?:debe|deben|adeuda|adeudan)\b", " owes "),
    (r"\b(?:deudas?|deudores?|cuentas por cobrar|saldos? pendientes?)\b", " debts "),
    (r"\b(?:mejores|principales) clientes\b", " best customers "),
    (r"\bclientes?\b", " customers "),
    (r"\b(?:(?:el |los |las )?productos? )?(?:mas vendidos?|que mas (?:se )?(?:vend\w+))\b", " best-selling "),
    (r"\b(?:mejores|principales) productos\b", " top products "),
    (r"\bproductos?\b", " products "),
    (r"\b(?:hora (?:pico|punta|mas (?:concurrida|ocupada|movida|activa))|a que hora)\b", " busiest hour "),
    (r"\bpor hora\b", " by hour "),
    (r"\bcategorias?\b", " category "),
    (r"\bsegmentos?\b", " segments "),
    (r"\b(?:pronostico|prevision|prediccion|proyeccion)(?:es)?\b", " forecast "),
    (r"\b(?:cuanto|cuanta|cuantos|cuantas) (?:voy a|vamos a|se va a|van a) vender\b", " forecast "),
    (r"\b(?:inventario|existencias?)\b", " stock "),
    (r"\b(?:quedan|queda)\b", " left "),
    (r"\b(?:cuantos|cuantas)\b", " how many "),
    (r"\b(?:cuanto|cuanta)\b", " how much "),
    (r"\b(?:ingresos|facturacion|recaudacion|ganancias?)\b", " revenue "),
    (r"\b(?:ventas?)\b", " sales "),
    (r"\b(?:vend\w*)\b", " sold "),
    (r"\b(?:fiao)\b", " fiado "),
    (r"\b(?:cuales|cual|que|como)\b", " what "),
    (r"\b(?:quienes|quien)\b", " who "),
    ((r"\b(?:dame|muestrame|mostrar|ver|dime|me|mis|mi|nos|se|yo|hemos|he|ha|han|fue|fueron|son|es|tengo|tiene|"
      r"tenemos|por favor|total|en total|unidades|unidad|botellas?|cajas?|paquetes?|el|la|los|las|lo|de|del|en|y|"
      r"un|una|unos|unas|mas|para|por|tienda|colmado|negocio)\b"), " "),
)
_WORDS_FR: tuple[tuple[str, str], ...] = (
    # margins (issue 27, analytics/assistant/margins.py)
    (r"\b(?:me |nous )?(?:rapportent|rapporte|ont rapporte|a rapporte) le plus\b", " make the most money "),
    (r"\b(?:les )?plus rentables?\b", " most profitable "),
    ((r"\b(?:(?:me |nous )?(?:font|fait|ont fait) perdre (?:de l')?argent|perdent de l'argent|a perte|"
      r"sous le cout)\b"), " lose money "),
    (r"\bmarges? (?:brute )?(?:sur|de|du|des|pour) (?:l'|le |la |les )?", " margin on "),
    (r"\bmarges?\b", " margin "),
    (r"\b(?:stock|inventaire) (?:de|du|des|d')\s?", " stock of "),
    (r"\b(?:que|quoi) (?:dois-je|faut-il|devrais-je|dois je|faut il) (?:commander|racheter|recommander)\b",
     " reorder "),
    (r"\b(?:reapprovisionner|recommander|racheter|commander|rupture(?: de stock)?)\b", " reorder "),
    (r"\bqui (?:me |nous )?(?:doit|doivent)\b", " who owes "),
    (r"\b(?:me |nous )?(?:doit|doivent)\b", " owes "),
    (r"\b(?:dettes?|debiteurs?|impayes?|credits? en cours)\b", " debts "),
    (r"\b(?:meilleur(?:e)?s?|principaux|principales) clients?\b", " best customers "),
    (r"\bclients?\b", " customers "),
    (r"\b(?:(?:les )?produits? )?(?:les )?plus vendu(?:e)?s?\b", " best-selling "),
    (r"\bmeilleures ventes\b", " best-selling "),
    (r"\b(?:meilleurs|principaux) produits\b", " top products "),
    (r"\bproduits?\b", " products "),
    (r"\b(?:heure de pointe|heure (?:la )?plus (?:chargee|active|occupee)|a quelle heure|quelle heure)\b",
     " busiest hour "),
    (r"\bpar heure\b", " by hour "),
    (r"\bcategories?\b", " category "),
    (r"\bsegments?\b", " segments "),
    (r"\b(?:previsions?|prediction)\b", " forecast "),
    (r"\bcombien (?:vais-je|allons-nous|va-t-on) vendre\b", " forecast "),
    (r"\binventaire\b", " stock "),
    (r"\b(?:reste-t-il|reste|restent|en reste)\b", " left "),
    (r"\bcombien d[e']\s?", " how many "),
    (r"\bcombien\b", " how much "),
    (r"\b(?:chiffre d'affaires|recettes?|revenus?)\b", " revenue "),
    (r"\bventes?\b", " sales "),
    (r"\b(?:vend\w*)\b", " sold "),
    (r"\b(?:quels|quelles|quel|quelle|qu'est-ce que|comment)\b", " what "),
    (r"\bqui\b", " who "),
    ((r"\b(?:j'ai|ai-je|avons-nous|nous avons|on a|a-t-on|a-t-il|ont|a ete|ont ete|s'est|se sont|est|sont|mes|mon|"
      r"ma|nos|notre|me|montre-moi|montrez-moi|donne-moi|donnez-moi|en tout|au total|total|unites?|bouteilles?|"
      r"caisses?|paquets?|le|la|les|l'|du|des|de|d'|en|et|un|une|plus|d'argent|argent|pour|par|boutique|magasin)"
      r"(?![\w'-])"), " "),
)


def english_question(question: str, language: str | None) -> str:
    """The question in the parser's plain English forms (``language``: the question's; English and
    None pass through with only the spelling normalised)."""
    if language not in ("es", "fr"):
        return question
    text = re.sub(r"[¿?¡!;]", " ", plain(question))
    if language == "es":
        text = _dates_es(text)
        for pattern, repl in _WORDS_ES:
            text = re.sub(pattern, repl, text)
    elif language == "fr":
        text = _dates_fr(text)
        for pattern, repl in _WORDS_FR:
            text = re.sub(pattern, repl, text)
    return " ".join(text.split())


_ES_PERIOD_WORDS = r"ayer|hoy|anteayer|semana|mes|ano|este|esta|pasad[oa]|ultim[oa]s"
_FR_PERIOD_WORDS = r"hier|aujourd'hui|semaine|mois|annee|ce|cette|dernier|derniere|derniers"


def english_period(phrase: str) -> str:
    """A period in Spanish or French words ("la semana pasada", "le mois dernier", "ayer") in the
    English forms :mod:`analytics.assistant.dates` reads; an English phrase comes back unchanged."""
    language = question_language(phrase)
    text = plain(phrase)
    if language == "es" or re.search(rf"\b(?:{_ES_MONTH}|{_ES_DAY}|{_ES_PERIOD_WORDS})\b", text):
        return " ".join(_dates_es(text).split())
    if language == "fr" or re.search(rf"\b(?:{_FR_MONTH}|{_FR_DAY}|{_FR_PERIOD_WORDS})\b", text):
        return " ".join(_dates_fr(text).split())
    return phrase
