// The cashier side: the till screen (basket long-poll, corrections, supervisor approvals, payment,
// receipt, USB barcode scanner) and the refunds page.  Loaded by cashier/till.html and
// cashier/refunds.html; needs app.js (window.Tillsight).
(function () {
  "use strict";
  const T = window.Tillsight;
  const $ = function (id) { return document.getElementById(id); };
  const ACTIVE = ["scanning", "review", "payment"];
  const STATE_LABELS = { idle: _("No sale"), scanning: _("Scanning"), review: _("Review"), payment: _("Payment"),
                         completed: _("Paid"), voided: _("Voided") };
  const SOURCE_LABELS = { vision: _("camera"), barcode: _("barcode"), manual: _("typed") };
  const SCAN_GAP_MS = 50;   // a USB scanner types faster than this between keys
  const SCAN_MIN_DIGITS = 6;
  const UNIT = T.toMinor("1") || 100;  // minor units per major unit (1 or 100)
  const DECIMALS = UNIT === 1 ? 0 : 2;

  function cap(text) { text = String(text || ""); return text.charAt(0).toUpperCase() + text.slice(1); }
  function majorText(minor) { return (minor / UNIT).toFixed(DECIMALS); }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  function openDialog(d) { if (d && !d.open) d.showModal(); }
  function closeDialog(d) { if (d && d.open) d.close(); }

  // ---- shared: PIN pads, closing buttons ---------------------------------------------------------
  document.querySelectorAll(".pinpad[data-target]").forEach(function (pad) {
    const input = $(pad.dataset.target);
    pad.addEventListener("click", function (ev) {
      const k = ev.target.closest(".key");
      if (!k || !input) return;
      const key = k.dataset.key;
      if (key === "⌫") input.value = input.value.slice(0, -1);
      else if (key === "C") input.value = "";
      else if (input.value.length < 8) input.value += key;
    });
  });
  document.querySelectorAll("dialog [data-close]").forEach(function (b) {
    b.addEventListener("click", function () { closeDialog(b.closest("dialog")); });
  });

  // ---- supervisor approval ---------------------------------------------------------------------
  // request(message, attempt): shows the dialog; attempt(creds) is retried until it succeeds, the
  // PIN is refused (the dialog stays open and says so) or the cashier cancels.
  const Approval = (function () {
    const dialog = $("approval-dialog");
    if (!dialog) return null;
    const err = $("approval-error"), user = $("approval-user"), pin = $("approval-pin"), ok = $("approval-ok");
    let pending = null;
    function finish(fn, value) { const p = pending; pending = null; closeDialog(dialog); if (p) p[fn](value); }
    $("approval-form").addEventListener("submit", async function (ev) {
      ev.preventDefault();
      if (!pending) return;
      err.textContent = "";
      const creds = { approver_id: user.value, approver_pin: pin.value.trim() };
      if (!creds.approver_id) { err.textContent = _("No supervisor can approve: ask the owner to add one."); return; }
      if (!/^[0-9]{4,8}$/.test(creds.approver_pin)) { err.textContent = _("Type the supervisor's PIN."); return; }
      ok.disabled = true;
      try {
        finish("resolve", await pending.attempt(creds));
      } catch (e) {
        if (e.status === 403 && !(e.data && e.data.approval_required)) {
          err.textContent = cap(e.message); pin.value = ""; pin.focus();  // wrong PIN or not a supervisor
        } else {
          finish("reject", e);
        }
      } finally { ok.disabled = false; }
    });
    function cancel() {
      const e = new Error("cancelled"); e.cancelled = true;
      finish("reject", e);
    }
    $("approval-cancel").addEventListener("click", cancel);
    dialog.addEventListener("cancel", function (ev) { ev.preventDefault(); cancel(); });
    // what the supervisor approves (the items and the amount), shown under the message
    function showWhat(what) {
      let box = $("approval-what");
      if (!box) {
        box = T.el("div", { id: "approval-what", class: "approval-what" });
        $("approval-message").after(box);
      }
      box.replaceChildren();
      box.hidden = !what;
      if (!what) return;
      const list = T.el("ul", { class: "approval-lines" });
      what.lines.forEach(function (l) {
        list.append(T.el("li", {}, [T.el("span", { text: l.qty + " × " + l.name }),
                                    T.el("span", { class: "num", text: T.money(l.line_total, what.currency) })]));
      });
      box.append(T.el("p", { class: "approval-summary", text: what.title }), list,
                 T.el("p", { class: "approval-total" }, [T.el("span", { text: ngettext("%(num)d item", "%(num)d items", what.items) }),
                                                          T.el("strong", { id: "approval-amount", text: T.money(what.total, what.currency) })]));
    }
    return {
      request: function (message, attempt, what) {
        return new Promise(function (resolve, reject) {
          pending = { attempt: attempt, resolve: resolve, reject: reject };
          $("approval-message").textContent = cap(message);
          showWhat(what || null);
          err.textContent = ""; pin.value = "";
          openDialog(dialog);
          pin.focus();
        });
      },
    };
  })();

  // An API call that asks for a supervisor when the server answers 403 approval_required;
  // ``what`` (optional) is what the approval box shows: the items and the amount approved.
  async function withApproval(method, url, body, what) {
    body = body || {};
    try {
      return await T.api(method, url, body);
    } catch (e) {
      if (!(e.status === 403 && e.data && e.data.approval_required) || !Approval) throw e;
      return Approval.request(e.message, function (creds) {
        return T.api(method, url, Object.assign({}, body, creds));
      }, what);
    }
  }

  if ($("till")) initTill();
  if ($("refund-app")) initRefunds();

  // ==================================================================================================
  function initTill() {
    const root = $("till");
    const me = { id: root.dataset.userId, name: root.dataset.userName, role: root.dataset.role };
    const notes = (root.dataset.cashNotes || "").split(" ").filter(Boolean).map(Number);
    const code = $("code");
    const results = $("search-results");
    let view = null;
    let version = -1;
    let lastActionDone = 0;
    let busy = false;
    let receiptShown = null;

    // ---- messages ----
    function showMessage(text, kind) {
      const m = $("message");
      m.textContent = cap(text);
      m.className = "message " + (kind || "info");
      m.hidden = !text;
    }
    function handleError(e) {
      if (e.cancelled) return;
      if (e.status === 401) { window.location.href = "/login?next=/till"; return; }
      if (e.status === 507) { showMessage(_("STORAGE PROBLEM — %(error)s", { error: e.message }), "storage"); return; }
      showMessage(e.message || String(e), "error");
      const unknown = document.querySelector("#basket-lines li.unknown-line");
      if (unknown) unknown.scrollIntoView({ block: "nearest" });  // keep what the error is about in view
    }
    async function act(fn, okText) {
      if (busy) return null;
      busy = true;
      try {
        const v = await fn();
        if (v && v.state) render(v);
        showMessage(okText || "", "ok");
        return v;
      } catch (e) {
        handleError(e);
        return null;
      } finally {
        busy = false;
        lastActionDone = performance.now();
      }
    }

    // ---- rendering ----
    function render(v) {
      view = v;
      version = v.version;
      const s = v.state;
      const hasShift = !!v.shift;
      $("shift-gate").hidden = hasShift;
      $("till-grid").hidden = !hasShift;
      const badge = $("sale-state");
      badge.textContent = STATE_LABELS[s] || s;
      badge.className = "pill state st-" + s;
      let info = "";
      if (v.cashier && s !== "idle") info = _("Sale by %(name)s", { name: v.cashier.name });
      if (v.receipt_no) info += " · " + _("receipt %(number)s", { number: v.receipt_no });
      $("sale-info").textContent = info;
      if (!v.mine) showMessage(_("%(name)s has a sale in progress on this till. Only they or a supervisor can change it.", { name: v.cashier.name }), "warn");
      renderLines(v);
      updateCodeHint();
      showUnknown();
      renderTotals(v);
      renderButtons(v);
      const pay = $("pay-dialog");
      if (s === "payment" && v.mine) { if (!pay.open) openPay(); else updateDue(); }
      else closeDialog(pay);
    }

    function renderTotals(v) {
      const t = v.totals;
      $("t-subtotal").textContent = T.money(t.subtotal, v.currency);
      $("t-discount").textContent = t.discount ? "−" + T.money(t.discount, v.currency) : T.money(0, v.currency);
      $("t-tax").textContent = T.money(t.tax, v.currency);
      $("t-items").textContent = String(t.items);
      $("t-total").textContent = T.money(t.total, v.currency);
    }

    function renderButtons(v) {
      const s = v.state;
      const active = ACTIVE.indexOf(s) >= 0;
      const mine = v.mine;
      const locked = v.lines.some(function (l) { return l.locked; });
      $("btn-start").hidden = s !== "idle";
      $("btn-new").hidden = !(s === "completed" || s === "voided");
      $("btn-start").disabled = !mine;
      $("btn-new").disabled = false;
      $("btn-pay").hidden = !active;
      $("btn-review").disabled = !mine || !(s === "scanning" || s === "payment");
      $("btn-rescan").disabled = !mine || s !== "review" || locked;
      $("btn-discount").disabled = !mine || !(s === "review" || s === "payment") || !v.lines.length;
      $("btn-void").disabled = !mine || !active;
      $("btn-pay").disabled = !mine || !(s === "scanning" || s === "review") || !v.lines.length;
      code.disabled = !mine || s === "payment";
      $("code-add").disabled = code.disabled;
    }

    function renderLines(v) {
      const list = $("basket-lines");
      const editable = v.mine && (v.state === "scanning" || v.state === "review");
      list.replaceChildren();
      v.lines.forEach(function (l) {
        if (l.unknown) { list.append(unknownLine(l, v, editable)); return; }
        const badges = [T.el("span", { class: "badge src-" + l.source, text: SOURCE_LABELS[l.source] || l.source })];
        if (l.confidence !== null && l.confidence !== undefined) {
          const pct = Math.round(l.confidence * 100);
          badges.push(T.el("span", { class: "conf" + (pct < 60 ? " low" : ""), text: pct + "%" }));
        }
        if (l.locked) badges.push(T.el("span", { class: "badge locked", text: _("shown"), title: _("The customer has seen this line: reducing it needs a supervisor") }));
        const sub = [T.el("span", { text: _("%(price)s each", { price: T.money(l.unit_price, v.currency) }) })];
        if (l.unit_price !== l.list_price) sub.push(T.el("s", { class: "muted", text: T.money(l.list_price, v.currency) }));
        const mainKids = [T.el("div", { class: "line-name", text: l.name }), T.el("div", { class: "line-badges" }, badges),
                          T.el("div", { class: "line-sub muted" }, sub)];
        if (l.offers && l.offers.length) mainKids.push(T.el("div", { class: "line-offer", text: l.offers.join(" · ") }));
        if (l.source === "vision" && l.alternatives && l.alternatives.length && editable && !l.locked) {
          const alts = [T.el("span", { class: "muted", text: _("Or is it:") + " " })];
          l.alternatives.slice(0, 3).forEach(function (a) {
            alts.push(T.el("button", { type: "button", class: "alt", "data-sku": a.sku,
                                       text: a.name + " (" + Math.round(a.score * 100) + "%)" }));
          });
          alts.push(T.el("button", { type: "button", class: "alt-other", text: _("Something else…"),
                                     title: _("Scan or search the right product for this line") }));
          mainKids.push(T.el("div", { class: "alts" }, alts));
        }
        if (l.was_unknown && v.teach_url) mainKids.push(teachLink(v.teach_url + "?sku=" + encodeURIComponent(l.sku)));
        const minus = T.el("button", { type: "button", class: "btn-minus", "aria-label": _("One less"), text: "−" });
        const plus = T.el("button", { type: "button", class: "btn-plus", "aria-label": _("One more"), text: "+" });
        minus.disabled = !editable || l.qty <= 1;
        plus.disabled = !editable || l.qty >= 999;
        const price = T.el("button", { type: "button", class: "btn-price", text: _("Price"), title: _("Price override (supervisor)") });
        const remove = T.el("button", { type: "button", class: "btn-remove danger", "aria-label": _("Remove %(name)s", { name: l.name }), text: "✕" });
        price.disabled = !v.mine || ACTIVE.indexOf(v.state) < 0;
        remove.disabled = !v.mine || ACTIVE.indexOf(v.state) < 0 || v.state === "payment";
        list.append(T.el("li", { class: "line" + (l.locked ? " is-locked" : ""), "data-line-id": String(l.line_id),
                                 "data-sku": l.sku, "data-qty": String(l.qty) }, [
          T.el("div", { class: "line-main" }, mainKids),
          T.el("div", { class: "line-qty" }, [minus, T.el("span", { class: "qty", text: String(l.qty) }), plus]),
          T.el("div", { class: "line-total num", text: T.money(l.line_total, v.currency) }),
          T.el("div", { class: "line-tools" }, [price, remove]),
        ]));
      });
      (v.promotions || []).forEach(function (p) {  // a multi-buy or bundle offer: its saving as a line of its own
        list.append(T.el("li", { class: "line offer-line", "data-promotion-id": p.promotion_id }, [
          T.el("div", { class: "line-main" }, [T.el("div", { class: "line-name", text: p.times > 1 ? p.name + " ×" + p.times : p.name })]),
          T.el("div", { class: "line-qty" }),
          T.el("div", { class: "line-total num", text: "−" + T.money(p.discount, v.currency) }),
          T.el("div", { class: "line-tools" }),
        ]));
      });
      const empty = $("basket-empty");
      empty.hidden = v.lines.length > 0;
      if (!v.lines.length) {
        empty.textContent = v.state === "idle" || v.state === "completed" || v.state === "voided"
          ? _("Press Start sale (or scan an item) to begin.")
          : _("Put the items on the tray, scan a barcode or type a code.");
      }
    }

    // ---- unknown items (A2): a product the camera found but does not know ----
    // The line asks for a barcode scan or a search; while one is open, the next scan, typed code or
    // search pick rings it up (resolves it) instead of adding a new line.  Pay is refused until then.
    function teachLink(href) {
      return T.el("a", { class: "teach-link", href: href, target: "_blank", rel: "noopener",
                         text: _("Teach this product"), title: _("Opens the Teach a product screen (after this sale)") });
    }
    function unknownLine(l, v, editable) {
      const kids = [T.el("div", { class: "line-name", text: _("Unknown item") }),
                    T.el("div", { class: "unknown-ask" }, [T.el("span", { class: "badge unknown", text: _("not recognised") }),
                                                           T.el("span", { text: " " + _("scan its barcode or search its name.") })])];
      if (editable && l.alternatives && l.alternatives.length) {
        const alts = [T.el("span", { class: "muted", text: _("Or is it:") + " " })];
        l.alternatives.slice(0, 3).forEach(function (a) {
          alts.push(T.el("button", { type: "button", class: "alt", "data-sku": a.sku,
                                     text: a.name + " (" + Math.round(a.score * 100) + "%)" }));
        });
        kids.push(T.el("div", { class: "alts" }, alts));
      }
      if (v.teach_url) kids.push(teachLink(v.teach_url));
      const search = T.el("button", { type: "button", class: "btn-find", text: _("Search"), title: _("Search the product by name") });
      search.disabled = !editable;
      const remove = T.el("button", { type: "button", class: "btn-remove danger", "aria-label": _("Remove the unknown item"),
                                      text: "✕", title: _("Not a product, or the customer keeps it") });
      remove.disabled = !editable;
      return T.el("li", { class: "line unknown-line", "data-line-id": String(l.line_id), "data-sku": "",
                          "data-unknown": "1", "data-qty": "1" }, [
        T.el("div", { class: "line-main" }, kids),
        T.el("div", { class: "line-qty" }, [T.el("span", { class: "qty", text: "1" })]),
        T.el("div", { class: "line-total num muted", text: "—" }),
        T.el("div", { class: "line-tools" }, [search, remove]),
      ]);
    }
    // the unknown line the next scan or search resolves (the first one), or null
    // or the camera line the cashier said is "something else" (its alternatives were all wrong)
    let fixTarget = null;
    function resolveTarget() {
      if (!view || !view.mine || !(view.state === "scanning" || view.state === "review")) return null;
      const l = view.lines.find(function (x) { return x.unknown; }) ||
                view.lines.find(function (x) { return x.line_id === fixTarget && x.source === "vision" && !x.locked; });
      return l ? l.line_id : null;
    }
    let shownUnknown = null;
    function showUnknown() {  // bring a newly found unknown item into view in the basket
      const li = document.querySelector("#basket-lines li.unknown-line");
      const id = li ? li.dataset.lineId : null;
      if (li && id !== shownUnknown) li.scrollIntoView({ block: "nearest" });
      shownUnknown = id;
    }
    function updateCodeHint() {
      const target = resolveTarget();
      const unknown = target !== null && view.lines.some(function (l) { return l.line_id === target && l.unknown; });
      code.placeholder = target === null ? _("Scan, type a code or search a name")
        : unknown ? _("Scan or search the unknown item") : _("Scan or search the right product");
    }

    // ---- the long-poll: the basket appears as soon as the tray settles ----
    async function poll() {
      for (;;) {
        const started = performance.now();
        try {
          const v = await T.api("GET", "/api/checkout?since=" + version + "&wait=10");
          $("conn").hidden = true;
          if (started < lastActionDone && view && v.version < view.version) { version = v.version; continue; }
          render(v);
        } catch (e) {
          if (e.status === 401) { window.location.href = "/login?next=/till"; return; }
          $("conn").hidden = false;
          await sleep(1500);
        }
      }
    }

    // ---- sale buttons ----
    async function ensureSale() {
      if (view && ACTIVE.indexOf(view.state) >= 0) return view;
      const v = await T.api("POST", "/api/checkout/start");
      render(v);
      return v;
    }
    $("btn-start").addEventListener("click", function () { act(function () { return T.api("POST", "/api/checkout/start"); }); });
    $("btn-new").addEventListener("click", function () { act(function () { return T.api("POST", "/api/checkout/start"); }); });
    $("btn-review").addEventListener("click", function () { act(function () { return T.api("POST", "/api/checkout/review"); }); });
    $("btn-rescan").addEventListener("click", function () { act(function () { return T.api("POST", "/api/checkout/rescan"); }); });
    $("btn-pay").addEventListener("click", function () { act(function () { return T.api("POST", "/api/checkout/pay"); }); });
    // Voiding: the basket is frozen first (scanning -> review, so the camera adds nothing), the void box
    // and the approval box show its items and total, and the server voids only that basket version.
    let voidHold = null;  // {version, froze, what}
    function basketSummary(v, title) {
      return { title: title, currency: v.currency, total: v.totals.total, items: v.totals.items,
               lines: v.lines.filter(function (l) { return l.qty > 0 && !l.unknown; }).map(function (l) {
                 return { qty: l.qty, name: l.name, line_total: l.line_total };
               }) };
    }
    function showVoidWhat(what) {
      let box = $("void-what");
      if (!box) {
        box = T.el("div", { id: "void-what", class: "approval-what" });
        $("void-title").after(box);
      }
      box.replaceChildren();
      const list = T.el("ul", { class: "approval-lines" });
      what.lines.forEach(function (l) {
        list.append(T.el("li", {}, [T.el("span", { text: l.qty + " × " + l.name }),
                                    T.el("span", { class: "num", text: T.money(l.line_total, what.currency) })]));
      });
      box.append(list, T.el("p", { class: "approval-total" }, [
        T.el("span", { text: ngettext("%(num)d item", "%(num)d items", what.items) }),
        T.el("strong", { id: "void-amount", text: T.money(what.total, what.currency) })]));
    }
    async function releaseVoidHold() {  // the void was not done: the camera follows the tray again
      const hold = voidHold;
      voidHold = null;
      if (hold && hold.froze && view && view.state === "review") {
        await act(function () { return T.api("POST", "/api/checkout/rescan"); });
      }
    }
    $("btn-void").addEventListener("click", async function () {
      $("void-error").textContent = "";
      if (!view || busy) return;
      let v = view;
      let froze = false;
      if (v.state === "scanning" && v.lines.length) {
        v = await act(function () { return T.api("POST", "/api/checkout/review"); });
        if (!v) return;
        froze = true;
      }
      voidHold = { version: v.version, froze: froze,
                   what: basketSummary(v, v.cashier ? _("Void the whole sale by %(name)s", { name: v.cashier.name })
                                                 : _("Void the whole sale on this till")) };
      showVoidWhat(voidHold.what);
      openDialog($("void-dialog"));
    });
    $("void-dialog").addEventListener("close", function () {
      if ($("void-dialog").returnValue !== "void") releaseVoidHold();
      $("void-dialog").returnValue = "";
    });
    $("void-form").addEventListener("submit", async function (ev) {
      ev.preventDefault();
      const reason = $("void-reason").value.trim();
      const hold = voidHold;
      $("void-dialog").returnValue = "void";
      closeDialog($("void-dialog"));
      if (!hold) return;
      const done = await act(function () {
        return withApproval("POST", "/api/checkout/void", { reason: reason, expect_version: hold.version }, hold.what);
      }, _("Sale voided."));
      if (done) voidHold = null; else releaseVoidHold();
    });
    $("btn-discount").addEventListener("click", function () {
      $("discount-amount").value = view && view.totals.discount ? majorText(view.totals.discount) : "";
      $("discount-error").textContent = "";
      openDialog($("discount-dialog"));
      $("discount-amount").focus();
    });
    $("discount-quick").addEventListener("click", function (ev) {
      const b = ev.target.closest("button[data-percent]");
      if (!b || !view) return;
      $("discount-amount").value = majorText(Math.round(view.totals.subtotal * Number(b.dataset.percent) / 100));
    });
    $("discount-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      const amount = T.toMinor($("discount-amount").value);
      if (amount === null) { $("discount-error").textContent = _("Type an amount like %(example)s", { example: T.money(2500, view ? view.currency : undefined) }); return; }
      closeDialog($("discount-dialog"));
      const what = { title: _("A discount of %(discount)s on %(subtotal)s; the customer pays", {
                       discount: T.money(amount, view.currency), subtotal: T.money(view.totals.subtotal, view.currency) }),
                     currency: view.currency,
                     items: view.totals.items, total: view.totals.subtotal - amount, lines: [] };
      act(function () {
        return withApproval("POST", "/api/checkout/discount", { amount: amount, reason: $("discount-reason").value.trim() },
                            what);
      }, _("Discount applied."));
    });
    $("btn-drawer").addEventListener("click", function () {
      $("drawer-error").textContent = ""; $("drawer-reason").value = "";
      openDialog($("drawer-dialog"));
    });
    $("drawer-form").addEventListener("submit", async function (ev) {
      ev.preventDefault();
      try {
        await T.api("POST", "/api/drawer/open", { reason: $("drawer-reason").value.trim() });
        closeDialog($("drawer-dialog"));
        showMessage(_("Drawer opened — recorded on your shift."), "ok");
      } catch (e) { $("drawer-error").textContent = e.message; }
    });

    // ---- lines: quantity, remove, alternatives, price ----
    let priceLine = null;
    $("basket-lines").addEventListener("click", function (ev) {
      const btn = ev.target.closest("button");
      const li = ev.target.closest("li.line");
      if (!btn || !li || btn.disabled) return;
      const id = li.dataset.lineId;
      const qty = Number(li.dataset.qty);
      const url = "/api/checkout/lines/" + id;
      // what a line void's approval box shows: the line, the units taken off and their amount
      const shown = view.lines.find(function (l) { return String(l.line_id) === id; });
      function lineWhat(units, title) {
        if (!shown || shown.unknown) return null;
        return { title: title, currency: view.currency, items: units, total: units * shown.unit_price,
                 lines: [{ qty: units, name: shown.name, line_total: units * shown.unit_price }] };
      }
      if (btn.classList.contains("btn-minus")) act(function () {
        return withApproval("POST", url, { qty: qty - 1 }, lineWhat(1, _("Take 1 off a line the customer has seen")));
      });
      else if (btn.classList.contains("btn-plus")) act(function () { return withApproval("POST", url, { qty: qty + 1 }); });
      else if (btn.classList.contains("btn-remove")) act(function () {
        return withApproval("POST", url + "/remove", { reason: "removed at the till" },
                            lineWhat(qty, _("Take off a line the customer has seen")));
      });
      else if (btn.classList.contains("alt")) act(function () { return T.api("POST", url + "/alternative", { sku: btn.dataset.sku }); });
      else if (btn.classList.contains("btn-find")) { code.focus(); showMessage(_("Type the product's name, or scan its barcode."), "info"); }
      else if (btn.classList.contains("alt-other")) {
        const line = view.lines.find(function (l) { return String(l.line_id) === id; });
        fixTarget = line ? line.line_id : null;
        updateCodeHint();
        code.focus();
        if (line) showMessage(_("Scan or search the right product instead of %(name)s.", { name: line.name }), "info");
      }
      else if (btn.classList.contains("btn-price")) {
        const line = view.lines.find(function (l) { return String(l.line_id) === id; });
        if (!line) return;
        priceLine = line;
        $("price-line").textContent = line.name + " — now " + T.money(line.unit_price, view.currency) + " each";
        $("price-new").value = majorText(line.unit_price);
        $("price-reason").value = "";
        $("price-error").textContent = "";
        openDialog($("price-dialog"));
        $("price-new").select();
      }
    });
    $("price-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      const price = T.toMinor($("price-new").value);
      if (price === null) { $("price-error").textContent = _("Type a price like %(example)s", { example: T.money(7500, view ? view.currency : undefined) }); return; }
      const line = priceLine;
      closeDialog($("price-dialog"));
      const what = { title: _("Change the price of %(name)s from %(old)s to %(new)s each", { name: line.name,
                       old: T.money(line.unit_price, view.currency), new: T.money(price, view.currency) }),
                     currency: view.currency, items: line.qty,
                     total: line.qty * price, lines: [{ qty: line.qty, name: line.name, line_total: line.qty * price }] };
      act(function () {
        return withApproval("POST", "/api/checkout/lines/" + line.line_id + "/price",
                            { unit_price: price, reason: $("price-reason").value.trim() }, what);
      }, _("Price changed."));
    });

    // ---- adding items: typed code, name search, USB barcode scanner ----
    async function addCode(text, qty, source) {
      const target = resolveTarget();
      if (target !== null) {  // an unknown item is waiting: this code says what it is
        return act(function () {
          return T.api("POST", "/api/checkout/lines/" + target + "/resolve",
                       { code: text, how: source === "barcode" ? "barcode" : "search" }).then(function (v) {
            fixTarget = null;
            return v;
          });
        }, _("Rung up."));
      }
      return act(async function () {
        await ensureSale();
        return T.api("POST", "/api/checkout/items", { code: text, qty: qty, source: source });
      });
    }
    let searchTimer = 0;
    let searchSeq = 0;
    function clearSearch() { clearTimeout(searchTimer); searchSeq += 1; results.replaceChildren(); }
    async function search(text) {
      const seq = ++searchSeq;
      try {
        const r = await T.api("GET", "/api/products/search?q=" + encodeURIComponent(text) + "&limit=8");
        if (seq !== searchSeq) return r.products;  // a newer search or an add came first
        results.replaceChildren();
        r.products.forEach(function (p) {
          results.append(T.el("li", {}, [T.el("button", { type: "button", class: "result", "data-sku": p.sku }, [
            T.el("span", { class: "result-name", text: p.name }),
            T.el("span", { class: "muted", text: p.sku }),
            T.el("span", { class: "num", text: T.money(p.price) })])]));
        });
        return r.products;
      } catch (e) { handleError(e); return []; }
    }
    async function submitCode() {
      let text = code.value.trim();
      if (!text) return;
      let qty = 1;
      const m = text.match(/^(\d{1,3})\s*[*x]\s*(\S.*)$/i);  // "3*7467700370018" adds three
      if (m) { qty = Number(m[1]); text = m[2].trim(); }
      if (/\s/.test(text)) {  // a name: show the matches, add at once when only one fits
        const found = await search(text);
        if (found.length === 1) { const v = await addCode(found[0].sku, qty, "manual"); if (v) { code.value = ""; clearSearch(); } }
        else if (!found.length) showMessage(_("Nothing matches “%(text)s”.", { text: text }), "error");
        return;
      }
      const v = await addCode(text, qty, "manual");
      if (v) { code.value = ""; clearSearch(); }
      else if (/[A-Za-z]/.test(text)) await search(text);
    }
    $("code-form").addEventListener("submit", function (ev) { ev.preventDefault(); submitCode(); });
    results.addEventListener("click", async function (ev) {
      const b = ev.target.closest("button.result");
      if (!b) return;
      const v = await addCode(b.dataset.sku, 1, "manual");
      if (v) { code.value = ""; clearSearch(); }
    });
    code.addEventListener("input", function () {
      clearTimeout(searchTimer);
      const text = code.value.trim();
      if (text.length < 2 || !/[A-Za-z]/.test(text)) { clearSearch(); return; }
      searchTimer = setTimeout(function () { search(text); }, 200);
    });

    // A scanner is a keyboard that types a burst of digits (< 50 ms apart) and Enter.  Caught on
    // the whole page, focused or not; slower typing goes into the code box as usual.
    let burst = [], lastKey = 0, before = "";
    document.addEventListener("keydown", function (ev) {
      if (document.querySelector("dialog[open]") || ev.ctrlKey || ev.altKey || ev.metaKey) return;
      if ($("till-grid").hidden) return;
      const active = document.activeElement;
      const inCode = active === code;
      if (!inCode && active && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName)) return;
      const now = performance.now();
      if (/^[0-9]$/.test(ev.key)) {
        if (now - lastKey > SCAN_GAP_MS) { burst = []; before = code.value; }
        burst.push(ev.key);
        lastKey = now;
        if (!inCode) { ev.preventDefault(); code.value += ev.key; }
        return;
      }
      if (ev.key === "Enter") {
        const scanned = burst.length >= SCAN_MIN_DIGITS && now - lastKey <= SCAN_GAP_MS;
        const digits = burst.join("");
        burst = [];
        if (scanned) {
          ev.preventDefault();
          code.value = before;
          clearSearch();
          addCode(digits, 1, "barcode");
        } else if (!inCode && code.value.trim()) {
          ev.preventDefault();
          submitCode();
        }
        return;
      }
      burst = [];
      if (!inCode && ev.key.length === 1 && (ev.key !== " " || code.value) && !code.disabled) {
        ev.preventDefault();  // typing anywhere goes to the code box
        code.value += ev.key;
        code.focus();
        code.dispatchEvent(new Event("input"));
      }
    }, true);

    // ---- payment ----
    let payMethod = "cash";
    let customers = [];
    function due() { return view ? view.totals.total : 0; }
    function updateDue() {
      $("pay-due").textContent = T.money(due(), view.currency); updateCash(); updateSplit();
      if ($("pay-dialog").open) showNothingDue();
    }
    function setPayError(text, storage) {
      const p = $("pay-error");
      p.textContent = cap(text);
      p.hidden = !text;
      p.className = "pay-error" + (storage ? " storage" : "");
      $("pay-complete").textContent = storage ? _("Try again") : _("Complete sale");
    }
    function choose(method) {
      payMethod = method;
      document.querySelectorAll("#pay-dialog .method").forEach(function (b) {
        b.classList.toggle("chosen", b.dataset.method === method);
        b.setAttribute("aria-selected", b.dataset.method === method ? "true" : "false");
      });
      document.querySelectorAll("#pay-dialog .pay-panel").forEach(function (p) { p.hidden = p.dataset.panel !== method; });
      if (method === "cash") $("cash-tendered").focus();
      updateComplete();
    }
    function quickNotes() {
      const d = due();
      const seen = {};
      const out = [d];
      notes.forEach(function (n) {
        const c = Math.ceil(d / n) * n;
        if (c > d && !seen[c]) { seen[c] = 1; out.push(c); }
      });
      return out.sort(function (a, b) { return a - b; }).slice(0, 5);
    }
    function openPay() {
      setPayError("");
      $("cash-tendered").value = "";
      const quick = $("cash-quick");
      quick.replaceChildren();
      quickNotes().forEach(function (amount, i) {
        quick.append(T.el("button", { type: "button", class: "note", "data-amount": String(amount),
                                      text: i === 0 ? _("Exact %(amount)s", { amount: T.money(amount) }) : T.money(amount) }));
      });
      $("split-parts").replaceChildren();
      addSplitPart("cash", due());
      openDialog($("pay-dialog"));
      updateDue();
      choose("cash");
      showNothingDue();
      loadCustomers();
    }
    function showNothingDue() {
      const zero = due() === 0;
      $("pay-nothing-due").hidden = !zero;
      $("pay-dialog").querySelector(".methods").hidden = zero;
      if (zero) document.querySelectorAll("#pay-dialog .pay-panel").forEach(function (el) { el.hidden = true; });
      else document.querySelectorAll("#pay-dialog .pay-panel").forEach(function (el) { el.hidden = el.dataset.panel !== payMethod; });
      $("pay-complete").textContent = zero ? _("Complete with no payment") : _("Complete sale");
      $("pay-complete").disabled = !payments();
    }
    async function loadCustomers() {
      try {
        customers = (await T.api("GET", "/api/customers")).customers;
      } catch (e) { customers = []; }
      fillCustomers($("credit-customer"));
      document.querySelectorAll("#split-parts select.part-customer").forEach(fillCustomers);
      updateCredit();
    }
    function fillCustomers(select) {
      const keep = select.value;
      select.replaceChildren(T.el("option", { value: "", text: _("— choose the customer —") }));
      customers.forEach(function (c) {
        select.append(T.el("option", { value: c.id, text: _("%(name)s — available %(amount)s", { name: c.name, amount: T.money(c.available_credit) }) }));
      });
      select.value = keep;
    }
    function updateCredit() {
      const c = customers.find(function (x) { return x.id === $("credit-customer").value; });
      $("credit-available").textContent = c
        ? _("Owes %(balance)s of a %(limit)s limit; available %(available)s", { balance: T.money(c.balance),
            limit: T.money(c.credit_limit), available: T.money(c.available_credit) })
          + (c.available_credit < due() ? " — " + _("NOT ENOUGH for this sale") : "")
        : "";
      $("credit-available").className = c && c.available_credit < due() ? "error" : "muted";
      updateComplete();
    }
    $("credit-customer").addEventListener("change", updateCredit);
    function updateCash() {
      const t = T.toMinor($("cash-tendered").value);
      const out = $("cash-change");
      if (t === null) { out.textContent = "—"; out.className = ""; }
      else if (t < due()) { out.textContent = _("short by %(amount)s", { amount: T.money(due() - t) }); out.className = "error"; }
      else { out.textContent = T.money(t - due()); out.className = "notice"; }
      updateComplete();
    }
    $("cash-tendered").addEventListener("input", updateCash);
    $("cash-quick").addEventListener("click", function (ev) {
      const b = ev.target.closest("button.note");
      if (!b) return;
      $("cash-tendered").value = majorText(Number(b.dataset.amount));
      updateCash();
    });
    document.querySelectorAll("#pay-dialog .method").forEach(function (b) {
      b.addEventListener("click", function () { choose(b.dataset.method); });
    });

    function addSplitPart(method, amount) {
      const sel = T.el("select", { class: "part-method", "aria-label": _("Method") });
      [["cash", _("Cash")], ["card", _("Card")], ["mobile_money", _("Mobile money")], ["credit", _("Credit")]].forEach(function (m) {
        sel.append(T.el("option", { value: m[0], text: m[1] }));
      });
      sel.value = method;
      const amt = T.el("input", { class: "part-amount", inputmode: "decimal", maxlength: "16", "aria-label": _("Amount"),
                                  value: amount > 0 ? majorText(amount) : "" });
      const cust = T.el("select", { class: "part-customer", "aria-label": _("Customer") });
      fillCustomers(cust);
      cust.hidden = method !== "credit";
      const del = T.el("button", { type: "button", class: "part-remove", "aria-label": _("Remove part"), text: "✕" });
      const li = T.el("li", { class: "split-part" }, [sel, amt, cust, del]);
      sel.addEventListener("change", function () { cust.hidden = sel.value !== "credit"; updateSplit(); });
      amt.addEventListener("input", updateSplit);
      cust.addEventListener("change", updateSplit);
      del.addEventListener("click", function () { li.remove(); updateSplit(); });
      $("split-parts").append(li);
      updateSplit();
    }
    function splitParts() {
      return Array.from(document.querySelectorAll("#split-parts .split-part")).map(function (li) {
        const method = li.querySelector(".part-method").value;
        const part = { method: method, amount: T.toMinor(li.querySelector(".part-amount").value) };
        if (method === "credit") part.customer_id = li.querySelector(".part-customer").value;
        if (method === "cash") part.tendered = part.amount;
        return part;
      });
    }
    function splitLeft() {
      return due() - splitParts().reduce(function (sum, p) { return sum + (p.amount || 0); }, 0);
    }
    function updateSplit() {
      const left = splitLeft();
      $("split-left").textContent = T.money(left);
      $("split-left").className = left === 0 ? "notice" : "error";
      updateComplete();
    }
    $("split-add").addEventListener("click", function () {
      addSplitPart("card", Math.max(0, splitLeft()));
    });

    function payments() {
      const d = due();
      if (d === 0) return [];  // nothing to pay (a price overridden to 0, a full discount): recorded with no payment
      if (payMethod === "cash") {
        const t = T.toMinor($("cash-tendered").value);
        return t !== null && t >= d ? [{ method: "cash", amount: d, tendered: t }] : null;
      }
      if (payMethod === "card" || payMethod === "mobile_money") return [{ method: payMethod, amount: d }];
      if (payMethod === "credit") {
        const c = customers.find(function (x) { return x.id === $("credit-customer").value; });
        return c && c.available_credit >= d ? [{ method: "credit", amount: d, customer_id: c.id }] : null;
      }
      const parts = splitParts();
      const ok = parts.length && splitLeft() === 0 && parts.every(function (p) {
        return p.amount && p.amount > 0 && (p.method !== "credit" || p.customer_id);
      });
      return ok ? parts : null;
    }
    function updateComplete() { $("pay-complete").disabled = !payments(); }

    // ---- a payment the till did not answer (it died or restarted): was the sale recorded? ----
    // Each payment attempt is kept in this browser (the sale's tx_id is the idempotency key) until the
    // till answers; when it does not (a network error, the till killed mid-payment), the screen keeps
    // asking the till, and once it is back says whether that sale was recorded and what to do.
    const PENDING_KEY = "tillsight.payment-attempt";
    function pendingAttempt() {
      try { return JSON.parse(window.localStorage.getItem(PENDING_KEY) || "null"); } catch (e) { return null; }
    }
    function setPendingAttempt(attempt) {
      try {
        if (attempt) window.localStorage.setItem(PENDING_KEY, JSON.stringify(attempt));
        else window.localStorage.removeItem(PENDING_KEY);
      } catch (e) { /* private mode: the check below still runs while the page stays open */ }
    }
    function shortId(txId) { return String(txId || "").slice(0, 8); }
    function showOutcome(title, text, kind, receipt) {
      $("outcome-title").textContent = title;
      $("outcome-text").textContent = text;
      $("outcome-dialog").className = "sheet outcome " + kind;
      $("outcome-receipt").hidden = !receipt;
      $("outcome-receipt").onclick = receipt ? function () { closeDialog($("outcome-dialog")); showReceipt(receipt); } : null;
      openDialog($("outcome-dialog"));
    }
    $("outcome-ok").addEventListener("click", function () { closeDialog($("outcome-dialog")); });
    let checkingAttempt = false;
    async function checkAttempt(attempt) {
      if (checkingAttempt) return;
      checkingAttempt = true;
      try {
        for (;;) {
          let r = null;
          try {
            r = await T.api("GET", "/api/checkout/sales/" + encodeURIComponent(attempt.tx_id));
          } catch (e) {
            if (e.status === 401) { handleError(e); return; }
            if (e.status === 403 || e.status === 404) { setPendingAttempt(null); return; }
            await sleep(2000);  // the till is not back yet
            continue;
          }
          const sale = { sale: shortId(attempt.tx_id), amount: T.money(attempt.total, attempt.currency) };
          if (r.recorded && r.status !== "completed") {
            setPendingAttempt(null);
            closeDialog($("pay-dialog"));
            showOutcome(_("Sale %(sale)s (%(amount)s) was voided", sale),
              _("It is recorded as voided (receipt %(number)s), not as a sale: no money is due for it. Give back any money taken for it.",
                { number: r.receipt_no }), "error", null);
          } else if (r.recorded) {
            setPendingAttempt(null);
            closeDialog($("pay-dialog"));
            showOutcome(_("Sale %(sale)s (%(amount)s) WAS recorded", sale),
              _("The till saved it as receipt %(number)s before it stopped. The payment is complete: keep the money, give the change and the receipt. Do not ring it up again.",
                { number: r.receipt_no }), "ok", r.receipt);
          } else if (r.open) {  // the till is up and the sale is still waiting for its payment
            setPendingAttempt(null);
            setPayError(_("Sale %(sale)s (%(amount)s) is NOT recorded yet: the till did not get the payment. Press Complete sale again.", sale), false);
          } else {
            setPendingAttempt(null);
            closeDialog($("pay-dialog"));
            showOutcome(_("Sale %(sale)s (%(amount)s) was NOT recorded", sale),
              _("The till stopped before it saved this sale, so it is not on the till and no payment is recorded for it. Give back any money taken for it, then ring the items up again as a new sale."),
              "error", null);
          }
          return;
        }
      } finally { checkingAttempt = false; }
    }

    $("pay-form").addEventListener("submit", async function (ev) {
      ev.preventDefault();
      const parts = payments();
      if (!parts || busy) return;
      busy = true;
      $("pay-complete").disabled = true;
      setPayError("");
      const attempt = { tx_id: view.tx_id, total: due(), currency: view.currency, at: new Date().toISOString() };
      setPendingAttempt(attempt);
      try {
        const r = await T.api("POST", "/api/checkout/complete", { payments: parts, tx_id: attempt.tx_id });
        setPendingAttempt(null);
        closeDialog($("pay-dialog"));
        render(r);
        showReceipt(r.receipt);
        showMessage("", "ok");
      } catch (e) {
        if (e.status) setPendingAttempt(null);  // the till answered: nothing is in doubt
        if (e.status === 507) setPayError(_("The sale was NOT saved: %(error)s", { error: e.message }), true);
        else if (e.status === 401) handleError(e);
        else if (e.status) setPayError(e.message, false);
        else {  // no answer at all: the till may have died while recording the sale
          setPayError(_("The till did not answer (it may be restarting). Do not take or give back money yet: checking whether sale %(sale)s was recorded…",
            { sale: shortId(attempt.tx_id) }), true);
          checkAttempt(attempt);
        }
      } finally {
        busy = false;
        lastActionDone = performance.now();
        updateComplete();
      }
    });
    $("pay-back").addEventListener("click", function () {
      act(function () { return T.api("POST", "/api/checkout/review"); });
    });
    $("pay-dialog").addEventListener("cancel", function (ev) {
      ev.preventDefault();
      act(function () { return T.api("POST", "/api/checkout/review"); });
    });

    // ---- receipt ----
    function showReceipt(receipt) {
      receiptShown = receipt.receipt_no;
      $("receipt-title").textContent = _("Sale complete — receipt %(number)s", { number: receipt.receipt_no });
      $("receipt-change").textContent = T.money(receipt.change, receipt.currency);
      $("receipt-change-line").hidden = !receipt.change;
      $("receipt-text").textContent = receipt.text;
      const url = "/till/receipt/" + encodeURIComponent(receipt.receipt_no);
      $("receipt-print").href = url + "?print=1";
      $("receipt-page").href = url;
      openDialog($("receipt-dialog"));
    }
    $("receipt-new").addEventListener("click", function () {
      closeDialog($("receipt-dialog"));
      act(function () { return T.api("POST", "/api/checkout/start"); });
    });

    poll();
    if (pendingAttempt()) checkAttempt(pendingAttempt());  // the page was reloaded while a payment was in doubt
  }

  // ==================================================================================================
  function initRefunds() {
    let sale = null;
    const err = $("refund-error");
    function setError(text) { err.textContent = text || ""; }

    async function lookup(receiptNo) {
      setError("");
      try {
        sale = await T.api("GET", "/api/refunds/lookup?receipt=" + encodeURIComponent(receiptNo));
      } catch (e) { sale = null; $("refund-sale").hidden = true; setError(e.message); return; }
      renderSale();
    }
    function renderSale() {
      $("refund-sale").hidden = false;
      $("refund-title").textContent = _("Receipt %(number)s · %(time)s · %(cashier)s · total %(total)s", {
        number: sale.receipt_no, time: sale.completed_local, cashier: sale.cashier.name, total: T.money(sale.total, sale.currency) });
      const note = [];
      if (!sale.refundable) note.push(sale.status === "voided" ? _("This is a voided record: it cannot be refunded.")
                                     : _("This is a refund record: it cannot be refunded."));
      if (sale.refund_state) {
        note.push((sale.refund_state.state === "fully"
          ? _("Refunded in full: %(receipts)s.", { receipts: sale.refund_state.receipts.join(", ") })
          : _("Partly refunded (%(items)s of %(of)s items): %(receipts)s.", { items: sale.refund_state.items,
              of: sale.refund_state.of_items, receipts: sale.refund_state.receipts.join(", ") })));
      }
      if (sale.discount) note.push(_("The sale had a discount of %(amount)s; refunds share it pro rata.", { amount: T.money(sale.discount, sale.currency) }));
      $("refund-note").textContent = note.join(" ");
      const body = $("refund-lines");
      body.replaceChildren();
      sale.refund_lines.forEach(function (l) {
        const input = T.el("input", { type: "number", min: "0", max: String(l.refundable), step: "1", value: "0",
                                      class: "refund-qty", "data-sku": l.sku, "aria-label": _("Quantity to refund of %(name)s", { name: l.name }) });
        input.disabled = l.refundable === 0;
        input.addEventListener("input", updateTotal);
        body.append(T.el("tr", { "data-sku": l.sku }, [
          T.el("td", {}, [T.el("div", { text: l.name }), T.el("div", { class: "muted", text: l.sku })]),
          T.el("td", { class: "num", text: String(l.sold) }),
          T.el("td", { class: "num", text: String(l.refunded) }),
          T.el("td", { class: "num refundable", text: String(l.refundable) }),
          T.el("td", { class: "num", text: T.money(l.unit_price, sale.currency) }),
          T.el("td", { class: "num" }, [input]),
        ]));
      });
      $("refund-submit").disabled = !sale.refundable;
      updateTotal();
    }
    function quantities() {
      const items = {};
      let bad = null;
      document.querySelectorAll("#refund-lines .refund-qty").forEach(function (input) {
        const v = input.value.trim();
        if (!/^\d{1,3}$/.test(v) || Number(v) > Number(input.max)) { if (!input.disabled) bad = input; return; }
        if (Number(v) > 0) items[input.dataset.sku] = Number(v);
      });
      return { items: items, bad: bad };
    }
    function updateTotal() {
      if (!sale) return;
      const q = quantities();
      let total = 0;
      sale.refund_lines.forEach(function (l) { total += (q.items[l.sku] || 0) * l.unit_price; });
      $("refund-total").textContent = T.money(total, sale.currency);
    }
    $("refund-lookup-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      const r = $("refund-receipt").value.trim();
      if (r) lookup(r);
    });
    $("refund-form").addEventListener("submit", async function (ev) {
      ev.preventDefault();
      if (!sale) return;
      const q = quantities();
      if (q.bad) { setError(_("Quantities are whole numbers from 0 to what can still be refunded.")); q.bad.focus(); return; }
      if (!Object.keys(q.items).length) { setError(_("Choose at least one item to refund.")); return; }
      setError("");
      $("refund-submit").disabled = true;
      try {
        const r = await T.api("POST", "/api/refunds", {
          receipt_no: sale.receipt_no, items: q.items, approver_id: $("refund-approver").value,
          approver_pin: $("refund-pin").value.trim(), reason: $("refund-reason").value.trim() });
        $("refund-pin").value = "";
        $("refund-done").hidden = false;
        $("refund-done-title").textContent = _("Refund %(number)s: %(amount)s back by %(methods)s", { number: r.receipt_no,
          amount: T.money(-r.receipt.total, r.receipt.currency),
          methods: r.receipt.payments.map(function (p) { return p.method_name; }).join(", ") });
        $("refund-done-text").textContent = r.receipt.text;
        $("refund-done-print").href = "/till/receipt/" + encodeURIComponent(r.receipt_no) + "?print=1";
        $("refund-done-page").href = "/till/receipt/" + encodeURIComponent(r.receipt_no);
        await lookup(sale.receipt_no);
      } catch (e) {
        setError(e.status === 507 ? _("The refund was NOT saved: %(error)s", { error: e.message }) : e.message);
      } finally {
        $("refund-submit").disabled = !(sale && sale.refundable);
      }
    });
    const initial = $("refund-receipt").value.trim();
    if (initial) lookup(initial);
  }
})();
