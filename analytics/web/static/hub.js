// Shared helpers for every hub page: JSON calls with the CSRF token, money formatting, and the
// periodic refresh of pages that ask for it (<body data-refresh="seconds">).
(function () {
  "use strict";
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.content : "";
  const ZERO_DECIMAL = ["JPY", "KRW", "CLP", "XOF", "XAF", "UGX", "RWF", "PYG", "VND", "ISK"];
  const SYMBOLS = { DOP: "RD$", USD: "$", EUR: "€", GBP: "£", MXN: "MX$" };

  async function api(method, url, body) {
    const opts = { method: method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (method !== "GET") opts.headers["X-CSRFToken"] = csrf;
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    const resp = await fetch(url, opts);
    let data = null;
    try { data = await resp.json(); } catch (e) { data = { error: resp.statusText }; }
    if (!resp.ok) {
      const err = new Error((data && data.error) || ("HTTP " + resp.status));
      err.status = resp.status; throw err;
    }
    return data;
  }
  function exponent(cur) { return ZERO_DECIMAL.indexOf(cur) >= 0 ? 0 : 2; }
  function major(minor, cur) { return minor / Math.pow(10, exponent(cur || "")); }
  function money(minor, cur) {
    cur = cur || "";
    // in Spanish or French, the page's store currency as the server writes it (i18n.js: "1 234,50 RD$")
    if (window.I18n && I18n.language !== "en" && (!cur || cur === I18n.currency)) return I18n.money(minor);
    const exp = exponent(cur);
    const sign = minor < 0 ? "-" : "";
    const abs = Math.abs(minor);
    let text = Math.floor(abs / Math.pow(10, exp)).toLocaleString("en-US");
    if (exp) text += "." + String(abs % Math.pow(10, exp)).padStart(exp, "0");
    return sign + (SYMBOLS[cur] || (cur ? cur + " " : "")) + text;
  }
  window.Hub = { api: api, money: money, major: major, csrf: csrf };

  const refresh = parseInt(document.body.dataset.refresh || "0", 10);
  if (refresh > 0) {
    setInterval(function () {
      if (document.visibilityState === "visible") window.location.reload();
    }, refresh * 1000);
  }
})();
