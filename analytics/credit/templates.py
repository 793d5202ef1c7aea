"""Collection message templates: every tone (friendly, firm, formal) × language (English,
Spanish, French) × channel (SMS, WhatsApp, e-mail subject and body), written from the figures
(``source: computed``).

Rules every template keeps: it greets the customer by name, states the amount owed in the
store's currency, says how to pay (at the counter), thanks them for their custom, and never
threatens (no legal action, credit bureaus, penalties or shaming).  The firm and formal tones say
since when the amount has been open.  SMS texts stay within 160 characters where possible: when a
rendered SMS is longer, the "since" clause is dropped, then the full name gives way to the first
name; :func:`sms_info` tells the encoding and the number of SMS parts it takes.  A business is greeted
by its whole name, never by its first word (:func:`first_name`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from contracts.money import exponent
from i18n import N_

TONES = ("friendly", "firm", "formal")
LANGUAGES = ("en", "es", "fr")
CHANNELS = ("sms", "whatsapp", "email")
LANGUAGE_NAMES = {"en": N_("English"), "es": N_("Spanish"), "fr": N_("French")}  # English in prompts, _() on pages
SMS_LIMIT = 160

_SYMBOLS = {"DOP": "RD$", "USD": "$", "EUR": "€", "GBP": "£", "MXN": "MX$"}
_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
           "noviembre", "diciembre"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"),
}
_SINCE = {"en": ", open since {date}", "es": ", pendiente desde el {date}", "fr": ", en attente depuis le {date}"}

# TEMPLATES[language][tone] = (sms, whatsapp, email subject, email body)
# fields: {name} full name, {first} first name, {amount}, {shop}, {since} (clause or "")
TEMPLATES: dict[str, dict[str, tuple[str, str, str, str]]] = {
    "en": {
        "friendly": (
            ("Hi {first}, a friendly reminder from {shop}: your balance is {amount}. Pay at the counter whenever "
             "it suits you. Thanks for shopping with us!"),
            ("Hi {first} 😊\nA friendly reminder from {shop}: your balance with us is *{amount}*.\nYou can pay at "
             "the counter whenever it suits you, all at once or in parts.\nThank you for shopping with us!"),
            "A friendly reminder from {shop}",
            ("Dear {first},\n\nWe hope you are well. This is a friendly reminder that your account at {shop} has a "
             "balance of {amount}.\n\nYou can pay at the counter whenever it suits you, all at once or in parts.\n\n"
             "Thank you for shopping with us. We are always happy to see you.\n\nBest wishes,\n{shop}")),
        "firm": (
            ("{first}, your balance at {shop} is {amount}{since}. Please pay it at the counter this week. "
             "Thank you for your custom."),
            ("Hello {first},\nYour balance at {shop} is *{amount}*{since}.\nPlease come by and pay it at the counter "
             "this week, or let us know when you can.\nThank you for your custom."),
            "Your balance of {amount} at {shop}",
            ("Hello {first},\n\nYour account at {shop} has a balance of {amount}{since}.\n\nPlease settle it at the "
             "counter this week. If that is difficult, come and talk to us and we will agree on a date together."
             "\n\nThank you for your custom.\n\n{shop}")),
        "formal": (
            ("Dear {name}, {shop} reminds you that your account balance is {amount}{since}. Payment can be made "
             "at the counter. Thank you."),
            ("Dear {name},\n{shop} would like to remind you that your account balance is *{amount}*{since}.\n"
             "Payment can be made at the counter during opening hours.\nThank you for your custom."),
            "Account balance reminder – {shop}",
            ("Dear {name},\n\nWe would like to remind you that your account with {shop} shows a balance of "
             "{amount}{since}.\n\nPayment can be made at the counter during our opening hours. Should you have "
             "any questions, please do not hesitate to contact us.\n\nThank you for your custom.\n\n"
             "Yours sincerely,\n{shop}")),
    },
    "es": {
        "friendly": (
            ("Hola {first}, un recordatorio de {shop}: su saldo es {amount}. Puede pagar en el mostrador cuando "
             "guste. ¡Gracias por su preferencia!"),
            ("Hola {first} 😊\nUn recordatorio amable de {shop}: su saldo con nosotros es de *{amount}*.\nPuede "
             "pagar en el mostrador cuando le convenga, todo junto o en partes.\n¡Gracias por su preferencia!"),
            "Un recordatorio amable de {shop}",
            ("Hola {first}:\n\nEsperamos que se encuentre bien. Le recordamos amablemente que su cuenta en {shop} "
             "tiene un saldo de {amount}.\n\nPuede pagar en el mostrador cuando le convenga, todo junto o en "
             "partes.\n\nGracias por su preferencia. Siempre es un gusto atenderle.\n\nUn saludo cordial,\n{shop}")),
        "firm": (
            ("{first}, su saldo en {shop} es {amount}{since}. Por favor, páguelo en el mostrador esta semana. "
             "Gracias por su preferencia."),
            ("Hola {first}:\nSu saldo en {shop} es de *{amount}*{since}.\nPor favor, pase a pagarlo en el mostrador "
             "esta semana, o díganos cuándo puede hacerlo.\nGracias por su preferencia."),
            "Su saldo de {amount} en {shop}",
            ("Hola {first}:\n\nSu cuenta en {shop} tiene un saldo de {amount}{since}.\n\nLe pedimos que lo pague en "
             "el mostrador esta semana. Si le resulta difícil, venga a hablar con nosotros y acordaremos juntos "
             "una fecha.\n\nGracias por su preferencia.\n\n{shop}")),
        "formal": (
            ("Estimado/a {name}: {shop} le recuerda que el saldo de su cuenta es {amount}{since}. Puede pagar en "
             "el mostrador. Gracias."),
            ("Estimado/a {name}:\n{shop} le recuerda que el saldo de su cuenta es de *{amount}*{since}.\nPuede "
             "realizar el pago en el mostrador en nuestro horario de atención.\nGracias por su confianza."),
            "Recordatorio de saldo – {shop}",
            ("Estimado/a {name}:\n\nLe recordamos que su cuenta en {shop} presenta un saldo de {amount}{since}."
             "\n\nPuede realizar el pago en el mostrador en nuestro horario de atención. Si tiene alguna pregunta, "
             "no dude en consultarnos.\n\nGracias por su confianza.\n\nAtentamente,\n{shop}")),
    },
    "fr": {
        "friendly": (
            ("Bonjour {first}, petit rappel de {shop} : votre solde est de {amount}. Réglez au comptoir quand vous "
             "voulez. Merci de votre fidélité !"),
            ("Bonjour {first} 😊\nPetit rappel amical de {shop} : votre solde chez nous est de *{amount}*.\nVous "
             "pouvez régler au comptoir quand cela vous convient, en une ou plusieurs fois.\nMerci de votre "
             "fidélité !"),
            "Petit rappel de {shop}",
            ("Bonjour {first},\n\nNous espérons que vous allez bien. Petit rappel amical : votre compte chez {shop} "
             "présente un solde de {amount}.\n\nVous pouvez régler au comptoir quand cela vous convient, en une ou "
             "plusieurs fois.\n\nMerci de votre fidélité, c'est toujours un plaisir de vous accueillir.\n\n"
             "Bien cordialement,\n{shop}")),
        "firm": (
            ("{first}, votre solde chez {shop} est de {amount}{since}. Merci de le régler au comptoir cette "
             "semaine. Merci de votre fidélité."),
            ("Bonjour {first},\nVotre solde chez {shop} est de *{amount}*{since}.\nMerci de passer le régler au "
             "comptoir cette semaine, ou de nous dire quand vous le pourrez.\nMerci de votre fidélité."),
            "Votre solde de {amount} chez {shop}",
            ("Bonjour {first},\n\nVotre compte chez {shop} présente un solde de {amount}{since}.\n\nNous vous "
             "demandons de le régler au comptoir cette semaine. Si cela vous pose difficulté, venez nous en parler "
             "et nous conviendrons ensemble d'une date.\n\nMerci de votre fidélité.\n\n{shop}")),
        "formal": (
            ("Bonjour {name}, {shop} vous rappelle que le solde de votre compte s'élève à {amount}{since}. "
             "Règlement au comptoir. Merci."),
            ("Bonjour {name},\n{shop} vous rappelle que le solde de votre compte s'élève à *{amount}*{since}.\n"
             "Le règlement peut être effectué au comptoir aux heures d'ouverture.\nNous vous remercions de votre "
             "confiance."),
            "Rappel de solde – {shop}",
            ("À l'attention de {name}\n\nMadame, Monsieur,\n\nNous vous rappelons que votre compte chez {shop} "
             "présente un solde de {amount}{since}.\n\nLe règlement peut être effectué au comptoir aux heures "
             "d'ouverture. Pour toute question, n'hésitez pas à nous contacter.\n\nNous vous remercions de votre "
             "confiance et vous prions d'agréer, Madame, Monsieur, nos salutations distinguées.\n\n{shop}")),
    },
}

# GSM 03.38: the basic set (1 unit each) and the extension table (2 units each)
_GSM_BASIC = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                 "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM_EXT = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SmsInfo:
    chars: int
    encoding: str  # gsm-7 | ucs-2
    parts: int  # SMS messages the text takes


@dataclass(frozen=True)
class RenderedMessage:
    sms: str
    whatsapp: str
    email_subject: str
    email_body: str


def sms_info(text: str) -> SmsInfo:
    if all(c in _GSM_BASIC or c in _GSM_EXT for c in text):
        units = sum(2 if c in _GSM_EXT else 1 for c in text)
        parts = 1 if units <= 160 else -(-units // 153)
        return SmsInfo(len(text), "gsm-7", parts)
    units = sum(2 if ord(c) > 0xFFFF else 1 for c in text)
    parts = 1 if units <= 70 else -(-units // 67)
    return SmsInfo(len(text), "ucs-2", parts)


def format_amount(minor: int, currency: str, language: str = "en") -> str:
    """The amount as a customer in that language reads it: ``RD$1,500.00`` (English, and Spanish
    outside the euro), ``1.500,00 €`` (Spanish, euro), ``1 500,00 RD$`` (French)."""
    cur = (currency or "").upper()
    exp = exponent(cur) if cur else 2
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(int(minor)), 10 ** exp)
    symbol = _SYMBOLS.get(cur, cur)
    if language == "fr" or (language == "es" and cur == "EUR"):
        sep, dec = (" ", ",") if language == "fr" else (".", ",")
        text = f"{whole:,}".replace(",", sep) + (f"{dec}{frac:0{exp}d}" if exp else "")
        return f"{sign}{text} {symbol}".strip()
    text = f"{whole:,}" + (f".{frac:0{exp}d}" if exp else "")
    return f"{sign}{symbol}{text}" if cur in _SYMBOLS else f"{sign}{symbol} {text}".strip()


def format_day(day: date, language: str) -> str:
    month = _MONTHS.get(language, _MONTHS["en"])[day.month - 1]
    if language == "en":
        return f"{day.day} {month} {day.year}"
    if language == "es":
        return f"{day.day} de {month} de {day.year}"
    return f"{day.day} {month} {day.year}"


# First words that make a name a business's ("Colmado Doña Carmen" is greeted whole, never "Hi Colmado"),
# in the three languages, and the company forms that end one ("Distribuidora Díaz SRL").
BUSINESS_WORDS = frozenset("""
    colmado colmadito bodega bodeguita cafetería cafeteria café cafe taller banca farmacia ferretería ferreteria
    supermercado super supermarket minimarket mini-market minisúper minisuper tienda tiendita almacén almacen
    panadería panaderia repostería reposteria pastelería pasteleria restaurante restaurant comedor fonda bar
    cantina salón salon peluquería peluqueria barbería barberia estética estetica librería libreria papelería
    papeleria carnicería carniceria pescadería pescaderia frutería fruteria verdulería verduleria lavandería
    lavanderia hotel motel pizzería pizzeria heladería heladeria distribuidora importadora inversiones grupo
    compañía compania empresa constructora agencia academia colegio escuela club iglesia clínica clinica
    consultorio laboratorio carwash lavadero gomera gomería gomeria repuestos fábrica fabrica
    shop store market bakery garage grocery deli pharmacy kiosk kiosco cafe diner pub company
    boulangerie épicerie epicerie pharmacie boucherie pâtisserie patisserie société societe atelier
    """.split())
COMPANY_FORMS = frozenset({"srl", "s.r.l.", "sa", "s.a.", "sas", "s.a.s.", "eirl", "e.i.r.l.", "ltd", "ltd.", "llc",
                           "inc", "inc.", "sarl", "s.a.r.l.", "co.", "corp", "corp."})
HONORIFICS = frozenset({"don", "doña", "dona", "sr.", "sr", "sra.", "sra", "srta.", "srta", "mr", "mr.", "mrs",
                        "mrs.", "ms", "ms.", "dr", "dr.", "dra.", "dra", "m.", "mme", "mme.", "mlle", "lic.", "ing."})


def is_business(name: str) -> bool:
    """Whether a customer's name is a business's (its first word a kind of shop, or it ends in a company
    form): a business is greeted by its whole name."""
    words = (name or "").lower().split()
    return bool(words) and (words[0] in BUSINESS_WORDS or words[-1] in COMPANY_FORMS)


def first_name(name: str) -> str:
    """How a message greets the customer: a person by the first name ("Pedro"; "Doña Carmen" with a
    title), a business by its whole name ("Colmado Doña Carmen")."""
    parts = (name or "").split()
    if not parts or is_business(name):
        return name
    if parts[0].lower() in HONORIFICS and len(parts) > 1:
        return " ".join(parts[:2])
    return parts[0]


def render(tone: str, language: str, *, name: str, amount: int, currency: str, shop: str,
           since: date | None = None) -> RenderedMessage:
    """All four texts of one tone × language.  ``amount`` in minor units."""
    if tone not in TONES:
        raise ValueError(f"tone must be one of {', '.join(TONES)}, not {tone!r}")
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    sms_t, wa_t, subj_t, body_t = TEMPLATES[language][tone]
    since_text = _SINCE[language].format(date=format_day(since, language)) if since else ""
    fields = {"name": name, "first": first_name(name), "amount": format_amount(amount, currency, language),
              "shop": shop, "since": since_text}
    sms = sms_t.format(**fields)
    if len(sms) > SMS_LIMIT and since_text:
        sms = sms_t.format(**{**fields, "since": ""})
    if len(sms) > SMS_LIMIT and fields["name"] != fields["first"]:
        sms = sms_t.format(**{**fields, "since": "", "name": fields["first"]})
    return RenderedMessage(sms, wa_t.format(**fields), subj_t.format(**fields), body_t.format(**fields))
