// The "Ask" tab: a chat box over POST /api/stores/<id>/ask, the store's history from
// GET /api/stores/<id>/ask/history, each answer with its table (the hub's figures), its source
// mark and clickable follow-up questions.  Everything from the server is set as text (never HTML).
(function () {
  "use strict";
  const root = document.getElementById("ask");
  if (!root) return;
  const list = document.getElementById("ask-history");
  const form = document.getElementById("ask-form");
  const input = document.getElementById("ask-question");
  const submit = document.getElementById("ask-submit");
  const errorBox = document.getElementById("ask-error");
  const status = document.getElementById("ask-status");
  let busy = false;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function cellText(col, value, currency) {
    if (value === null || value === undefined || value === "") return "—";
    switch (col.kind) {
      case "money": return window.Hub.money(Number(value), currency || root.dataset.currency || "");
      case "int": return window.I18n ? I18n.number(Number(value)) : Number(value).toLocaleString("en-US");
      case "num": return window.I18n ? I18n.number(Number(value), 2).replace(/[.,]00$/, "")
        : Number(value).toLocaleString("en-US", { maximumFractionDigits: 2 });
      case "pct": return window.I18n && I18n.language !== "en"
        ? I18n.number(Math.round(Number(value) * 100)) + "\u00a0%" : Math.round(Number(value) * 100) + "%";
      default: return String(value);
    }
  }

  function renderTable(table) {
    const wrap = el("div", "scroll ask-table-wrap");
    const t = el("table", "data ask-table");
    if (table.title) t.appendChild(el("caption", "muted", table.title));
    const head = el("thead"), hr = el("tr");
    table.columns.forEach(function (c) {
      const th = el("th", ["int", "num", "money", "pct"].indexOf(c.kind) >= 0 ? "num" : "", c.label);
      th.dataset.key = c.key; hr.appendChild(th);
    });
    head.appendChild(hr); t.appendChild(head);
    const body = el("tbody");
    table.rows.forEach(function (row) {
      const tr = el("tr");
      table.columns.forEach(function (c) {
        const td = el("td", ["int", "num", "money", "pct"].indexOf(c.kind) >= 0 ? "num" : "",
                      cellText(c, row[c.key], table.currency));
        td.dataset.key = c.key; tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    t.appendChild(body); wrap.appendChild(t);
    return wrap;
  }

  function renderExchange(m) {
    const box = el("article", "ask-exchange");
    if (m.id !== undefined && m.id !== null) box.dataset.id = m.id;
    const q = el("p", "ask-q");
    q.appendChild(el("strong", "", _("Q: ")));
    q.appendChild(document.createTextNode(m.question));
    if (m.user_id) q.appendChild(el("span", "muted small ask-who", " · " + m.user_id));
    box.appendChild(q);
    const a = el("div", "ask-a");
    a.appendChild(el("p", "ask-text", m.text));
    const mark = el("span", "pill ask-mark " + (m.source === "llm" ? "ok" : "warn"), m.mark);
    mark.dataset.source = m.source;
    a.appendChild(mark);
    if (m.note) a.appendChild(el("p", "muted small ask-note", m.note));
    (m.tables && m.tables.length ? m.tables : (m.table ? [m.table] : [])).forEach(function (t) {
      if (t.rows && t.rows.length) a.appendChild(renderTable(t));
    });
    if (m.follow_ups && m.follow_ups.length) {
      const ups = el("div", "ask-follow-ups");
      ups.appendChild(el("span", "muted small", _("Ask next: ")));
      m.follow_ups.forEach(function (f) {
        const b = el("button", "button small ask-follow-up", f);
        b.type = "button"; b.dataset.question = f; ups.appendChild(b);
      });
      a.appendChild(ups);
    }
    box.appendChild(a);
    return box;
  }

  function add(m) {
    const empty = document.getElementById("ask-empty");
    if (empty) empty.remove();
    const node = renderExchange(m);
    list.appendChild(node);
    return node;
  }

  function showError(text) {
    errorBox.textContent = text || "";
    errorBox.hidden = !text;
  }

  async function ask(question) {
    question = (question || "").trim();
    if (!question || busy) return;
    busy = true; submit.disabled = true; status.hidden = false; showError("");
    try {
      const answer = await window.Hub.api("POST", root.dataset.askUrl, { question: question });
      const node = add(answer);
      input.value = "";
      node.scrollIntoView({ block: "nearest" });
      root.dataset.answers = String(list.querySelectorAll(".ask-exchange").length);
    } catch (err) {
      showError(err.message);
    } finally {
      busy = false; submit.disabled = false; status.hidden = true; input.focus();
    }
  }

  form.addEventListener("submit", function (ev) { ev.preventDefault(); ask(input.value); });
  root.addEventListener("click", function (ev) {
    const b = ev.target.closest(".ask-follow-up");
    if (!b) return;
    input.value = b.dataset.question;
    ask(b.dataset.question);
  });

  window.Hub.api("GET", root.dataset.historyUrl + "?limit=50").then(function (data) {
    data.messages.forEach(add);
    root.dataset.ready = "yes";
    root.dataset.answers = String(list.querySelectorAll(".ask-exchange").length);
  }).catch(function (err) { showError(err.message); root.dataset.ready = "yes"; });
})();
