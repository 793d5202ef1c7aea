// Tillsight's languages in the browser (i18n/web.py): the page embeds the translations of the messages
// its scripts mark, and this file reads them.  Mark a string:  _("Pay")  _("Change %(amount)s", {amount: x})
// ngettext("%(num)d line", "%(num)d lines", n).  Format:  I18n.money(minor)  I18n.number(x)  I18n.datetime(iso)
(function () {
  "use strict";
  const node = document.getElementById("i18n-catalogue");
  const data = node ? JSON.parse(node.textContent) : {};
  const language = data.language || "en";
  const locale = data.locale || "en";
  const messages = data.messages || {};
  const shape = data.money || { currency: "USD", digits: 2, prefix: "$", suffix: "", negPrefix: "-$", negSuffix: "" };
  const plurals = new Intl.PluralRules(locale);

  function fill(text, params) {
    if (!params) return text.replace(/%%/g, "%");
    return text.replace(/%\((\w+)\)(?:\.\d+)?[sdif]|%%/g, function (match, key) {
      if (match === "%%") return "%";
      return Object.prototype.hasOwnProperty.call(params, key) ? String(params[key]) : match;
    });
  }
  function gettext(message, params) {
    const text = messages[message];
    return fill(typeof text === "string" && text ? text : message, params);
  }
  function ngettext(singular, plural, n, params) {
    const forms = messages[singular];
    const one = plurals.select(n) === "one";
    let text = one ? singular : plural;
    if (Array.isArray(forms) && forms.length >= 2) text = one ? forms[0] : forms[forms.length - 1];
    return fill(text, Object.assign({ num: n }, params || {}));
  }
  function number(value, digits) {
    const opts = digits === undefined ? {} : { minimumFractionDigits: digits, maximumFractionDigits: digits };
    return new Intl.NumberFormat(locale, opts).format(value);
  }
  // integer minor units -> "RD$1,234.50" / "1 234,50 RD$", as the server's format_money writes it
  function money(minor, symbol) {
    const scale = Math.pow(10, shape.digits);
    const text = number(Math.abs(minor) / scale, shape.digits);
    if (symbol === false) return (minor < 0 ? "-" : "") + text;
    return minor < 0 ? shape.negPrefix + text + shape.negSuffix : shape.prefix + text + shape.suffix;
  }
  // an ISO instant in the store's zone: "7 dic 2026, 11:00 a. m."
  function datetime(iso, opts) {
    const when = iso instanceof Date ? iso : new Date(iso);
    return new Intl.DateTimeFormat(locale, Object.assign({ dateStyle: "medium", timeStyle: "short",
      timeZone: data.timezone || "UTC" }, opts || {})).format(when);
  }
  function time(iso) {
    const when = iso instanceof Date ? iso : new Date(iso);
    return new Intl.DateTimeFormat(locale, { timeStyle: "short", timeZone: data.timezone || "UTC" }).format(when);
  }
  window._ = gettext;
  window.gettext = gettext;
  window.ngettext = ngettext;
  window.I18n = { language: language, locale: locale, timezone: data.timezone || "UTC", currency: shape.currency,
    digits: shape.digits, gettext: gettext, ngettext: ngettext, number: number, money: money, datetime: datetime,
    time: time };
})();
