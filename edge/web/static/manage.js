// Management pages: instant table filters, confirmations, the stock-count sheet's live differences.
(function () {
  "use strict";
  const T = window.Tillsight;

  // -- instant filter: <input data-filter-table="table-id"> hides rows whose data-search lacks the text
  function filterTable(input) {
    const table = document.getElementById(input.dataset.filterTable);
    if (!table) return;
    const text = input.value.trim().toLowerCase();
    let visible = 0;
    table.querySelectorAll("tbody").forEach(function (body) {
      let shown = 0;
      body.querySelectorAll("tr[data-search]").forEach(function (row) {
        const hit = !text || row.dataset.search.indexOf(text) >= 0;
        row.hidden = !hit;
        if (hit) shown += 1;
      });
      const header = body.querySelector("tr.category-row");
      if (header) header.hidden = shown === 0;
      visible += shown;
    });
    document.querySelectorAll("[data-visible-count]").forEach(function (n) { n.textContent = String(visible); });
  }
  document.querySelectorAll("input[data-filter-table]").forEach(function (input) {
    input.addEventListener("input", function () { filterTable(input); });
    if (input.value) filterTable(input);
  });

  // -- forms that ask before they change something big
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      const question = form.dataset.confirm;
      if (question && !window.confirm(question)) ev.preventDefault();
    });
  });

  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });

  // -- settings: the currency code is upper case
  const currency = document.getElementById("f-currency");
  if (currency) currency.addEventListener("input", function () { currency.value = currency.value.toUpperCase(); });

  // -- add staff: a PIN is required for cashiers and supervisors, a password for owners
  const roleSelect = document.querySelector("select[data-role-select]");
  if (roleSelect) {
    const pin = document.getElementById("f-pin");
    const password = document.getElementById("f-password");
    const sync = function () {
      const owner = roleSelect.value === "owner";
      pin.required = !owner;
      password.required = owner;
    };
    roleSelect.addEventListener("change", sync);
    sync();
  }

  // -- stock count: difference against the book stock and its value at cost, as the counts are typed; a
  //    product with no cost shows "no cost" and is counted apart, never as a zero loss
  const sheet = document.getElementById("count-sheet");
  if (sheet) {
    const form = document.getElementById("count-form");
    const warning = document.getElementById("count-warning");
    const rows = Array.from(sheet.querySelectorAll("tr[data-sku]"));
    const setDelta = function (cell, delta) {
      cell.textContent = delta > 0 ? "+" + delta : String(delta);
      cell.classList.toggle("up", delta > 0);
      cell.classList.toggle("down", delta < 0);
    };
    const update = function () {
      let lines = 0, changed = 0, units = 0, value = 0, bad = 0, uncosted = 0;
      rows.forEach(function (row) {
        const input = row.querySelector("input.count-input");
        const deltaCell = row.querySelector("[data-col=delta]");
        const valueCell = row.querySelector("[data-col=value]");
        const raw = input.value.trim();
        row.classList.remove("counted", "changed", "invalid");
        deltaCell.textContent = ""; valueCell.textContent = "";
        if (raw === "") return;
        if (!/^\d{1,7}$/.test(raw) || parseInt(raw, 10) > 1000000) {
          row.classList.add("invalid"); bad += 1; deltaCell.textContent = "?"; return;
        }
        const delta = parseInt(raw, 10) - parseInt(row.dataset.book, 10);
        const costed = row.dataset.cost !== "";
        const worth = costed ? delta * parseInt(row.dataset.cost, 10) : 0;
        lines += 1; units += delta; value += worth;
        row.classList.add("counted");
        if (delta !== 0) { changed += 1; row.classList.add("changed"); }
        if (delta !== 0 && !costed) uncosted += 1;
        setDelta(deltaCell, delta);
        valueCell.textContent = costed || delta === 0 ? T.money(worth) : _("no cost");
      });
      const uncostedNote = document.getElementById("count-uncosted");
      uncostedNote.hidden = uncosted === 0;
      uncostedNote.textContent = uncosted ? ngettext(
        "%(num)d product with a difference has no cost: it is left out of the value.",
        "%(num)d products with a difference have no cost: they are left out of the value.", uncosted) : "";
      document.getElementById("count-lines").textContent = String(lines);
      document.getElementById("count-changed").textContent = String(changed);
      setDelta(document.getElementById("count-units"), units);
      document.getElementById("count-value").textContent = T.money(value);
      return { lines: lines, bad: bad };
    };
    sheet.addEventListener("input", function (ev) { if (ev.target.classList.contains("count-input")) update(); });
    form.addEventListener("submit", function (ev) {
      const state = update();
      let problem = "";
      if (state.bad) problem = ngettext("%(num)d count is not a whole number from 0 to 1,000,000.",
                                          "%(num)d counts are not whole numbers from 0 to 1,000,000.", state.bad);
      else if (!state.lines) problem = _("Type at least one counted quantity.");
      if (problem) {
        ev.preventDefault();
        warning.textContent = problem; warning.hidden = false; warning.classList.add("error");
      }
    });
    // Enter in a count field moves to the next visible one instead of posting the count
    sheet.addEventListener("keydown", function (ev) {
      if (ev.key !== "Enter" || !ev.target.classList.contains("count-input")) return;
      ev.preventDefault();
      const inputs = rows.filter(function (r) { return !r.hidden; }).map(function (r) { return r.querySelector("input.count-input"); });
      const next = inputs[inputs.indexOf(ev.target) + 1];
      if (next) next.focus();
    });
    update();
  }
})();
