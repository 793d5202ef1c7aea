// Shifts (open with a float, close with a cash count) and the Print buttons of printable pages.
// Used by the till (its "open your shift" form), the shift page, the report and receipt pages.
(function () {
  "use strict";
  const T = window.Tillsight;
  const $ = function (id) { return document.getElementById(id); };

  function bind(formId, inputId, url, field, after) {
    const form = $(formId);
    if (!form) return;
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      const err = $("shift-error");
      const text = $(inputId).value.trim();
      if (T.toMinor(text) === null) { err.textContent = _("Type an amount like %(example)s", { example: T.money(50000) }); return; }
      err.textContent = "";
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const body = {};
        body[field] = text;  // text is read as major units by the server
        if (form.dataset.closeShift) body.shift_id = Number(form.dataset.closeShift);  // a supervisor closes another's
        after(await T.api("POST", url, body));
      } catch (e) {
        err.textContent = e.status === 507 ? _("NOT SAVED — %(error)s", { error: e.message }) : e.message;
        button.disabled = false;
      }
    });
  }
  bind("shift-open-form", "opening-float", "/api/shift/open", "opening_float", function () {
    window.location.reload();
  });
  bind("shift-close-form", "counted-cash", "/api/shift/close", "counted_cash", function (r) {
    window.location.href = "/shift/" + r.shift.id + "/report";
  });
  bind("shift-close-other-form", "counted-cash-other", "/api/shift/close", "counted_cash", function (r) {
    // another cashier's shift: its report stays theirs and the owner's; say what the count came to here
    const rep = r.shift.report;
    const diff = rep.over_short;
    $("shift-close-other-form").hidden = true;
    const done = $("shift-error");
    done.className = "notice";
    const facts = { id: r.shift.id, expected: T.money(rep.expected_cash), counted: T.money(rep.counted_cash),
                    diff: T.money(Math.abs(diff)) };
    done.textContent = (diff === 0 ? _("Shift #%(id)s closed: expected %(expected)s, counted %(counted)s, exact.", facts)
      : diff > 0 ? _("Shift #%(id)s closed: expected %(expected)s, counted %(counted)s, over by %(diff)s.", facts)
      : _("Shift #%(id)s closed: expected %(expected)s, counted %(counted)s, short by %(diff)s.", facts)) +
      " " + _("The drawer is free: the next shift can open.");
  });

  document.querySelectorAll(".print-button").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
  if (document.body.classList.contains("auto-print")) {
    window.addEventListener("load", function () { setTimeout(function () { window.print(); }, 150); });
  }
})();
