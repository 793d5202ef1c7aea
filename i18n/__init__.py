"""Tillsight's languages (issue 28): one neutral package the device and the hub both use.

* Messages: ``gettext`` / ``ngettext`` (alias ``_``) translate into the *current language*, a
  context variable that the web apps set per request (:mod:`i18n.web`) and that other code sets
  with :func:`use_language` (a receipt in the store's language, a reminder in the customer's).
  ``lazy_gettext`` is for module-level constants; ``N_`` only marks a string for extraction.
* Catalogues: gettext ``.po`` files in ``i18n/locales/<lang>/LC_MESSAGES/tillsight.po``, read with
  Babel when first used (no compile step, so a fresh clone works); English is the source language.
* Formatting: :func:`format_money` (integer minor units), numbers, dates and times, for a language
  and the store's country (read from its time zone: Spanish in Santo Domingo formats as ``es_DO``).
* ``python -m i18n missing --into PART`` writes the marked strings a language lacks into its
  ``PART.po`` to translate; ``python -m i18n check`` lists what a shipped language lacks (``tests/i18n``).
"""

from i18n.catalogues import DEFAULT_LANGUAGE, LANGUAGE_NAMES, SUPPORTED_LANGUAGES, normalize_language
from i18n.formatting import (
    format_date,
    format_datetime,
    format_decimal,
    format_money,
    format_number,
    format_percent,
    format_time,
    format_weekday,
    formatting_locale,
    money_digits,
    parse_number,
)
from i18n.translate import (
    N_,
    _,
    current_language,
    current_locale,
    gettext,
    lazy_gettext,
    ngettext,
    pgettext,
    reset_language,
    set_language,
    translate_in,
    use_language,
)

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGE_NAMES",
    "N_",
    "SUPPORTED_LANGUAGES",
    "_",
    "current_language",
    "current_locale",
    "format_date",
    "format_datetime",
    "format_decimal",
    "format_money",
    "format_number",
    "format_percent",
    "format_time",
    "format_weekday",
    "formatting_locale",
    "gettext",
    "lazy_gettext",
    "money_digits",
    "ngettext",
    "normalize_language",
    "parse_number",
    "pgettext",
    "reset_language",
    "set_language",
    "translate_in",
    "use_language",
]
