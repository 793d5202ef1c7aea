// Shared helpers for every page: JSON calls with the CSRF token, money formatting.
(function () {
  "use strict";
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.content : "";
  const currency = document.body.dataset.currency || "DOP";
  const ZERO_DECIMAL = ["JPY", "KRW", "CLP", "XOF", "XAF", "UGX", "RWF"];
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
      err.status = resp.status; err.data = data; throw err;
    }
    return data;
  }
  function money(minor, cur) {
    cur = cur || currency;
    // the store's currency as the reader's language writes it (i18n.js: the same rules as the server's)
    if (window.I18n && cur === window.I18n.currency) return window.I18n.money(minor);
    const exp = ZERO_DECIMAL.indexOf(cur) >= 0 ? 0 : 2;
    const sign = minor < 0 ? "-" : "";
    const abs = Math.abs(minor);
    const whole = Math.floor(abs / Math.pow(10, exp));
    const frac = abs % Math.pow(10, exp);
    let text = whole.toLocaleString("en-US");
    if (exp) text += "." + String(frac).padStart(exp, "0");
    return sign + (SYMBOLS[cur] || cur + " ") + text;
  }
  function toMinor(text, cur) {
    cur = cur || currency;
    const exp = ZERO_DECIMAL.indexOf(cur) >= 0 ? 0 : 2;
    const m = String(text).trim().match(/^(\d{1,12})(?:[.,](\d{0,3}))?$/);
    if (!m || (m[2] && m[2].length > exp)) return null;
    return parseInt(m[1], 10) * Math.pow(10, exp) + (m[2] ? parseInt(m[2].padEnd(exp, "0"), 10) : 0);
  }
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(function ([k, v]) {
      if (k === "text") node.textContent = v; else if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v); else node.setAttribute(k, v);
    });
    (children || []).forEach(function (c) { node.append(c); });
    return node;
  }
  window.Tillsight = { api: api, money: money, toMinor: toMinor, el: el, csrf: csrf, currency: currency };
})();
