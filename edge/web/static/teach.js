// "Teach a product": pick or create the product, then follow the teaching session on the tray
// (state, messages, kept views) by polling /api/teach; drop bad views, approve or cancel.
(function () {
  "use strict";
  const T = window.Tillsight;
  const root = document.getElementById("teach");
  if (!root) return;
  const $ = function (id) { return document.getElementById(id); };
  const initial = JSON.parse($("teach-initial").textContent);
  let chosen = initial.chosen;  // {sku, name, ...} or null
  let status = initial.status;
  let shownSeq = -1;
  let searchTimer = null;
  const POLL_MS = 400;

  function showError(text) {
    const box = $("teach-error");
    box.textContent = text || "";
    box.hidden = !text;
  }

  async function call(method, url, body) {
    try {
      showError("");
      return await T.api(method, url, body);
    } catch (err) {
      showError(err.message);
      throw err;
    }
  }

  // -- step 1: pick a product ------------------------------------------------------------------
  function choose(product) {
    chosen = product;
    $("teach-name").textContent = product.name;
    $("teach-sku").textContent = product.sku;
    $("teach-examples").textContent = "";
    render(status, true);
  }

  function showResults(products, query) {
    const list = $("teach-results");
    list.replaceChildren();
    products.slice(0, 12).forEach(function (p) {
      list.append(T.el("li", {}, [T.el("button", {
        type: "button", class: "result", "data-sku": p.sku, onclick: function () { choose(p); },
      }, [T.el("strong", { text: p.name }), T.el("span", { class: "mono muted", text: " " + p.sku })])]));
    });
    if (!products.length && query) {
      list.append(T.el("li", { class: "muted", text: _("No product matches “%(query)s”.", { query: query }) }));
    }
  }

  async function search(query, exact) {
    const q = query.trim();
    if (!q) { showResults([], ""); return; }
    const data = await call("GET", "/api/products?q=" + encodeURIComponent(q));
    const byCode = data.products.filter(function (p) { return p.barcode === q || p.sku === q; });
    if (exact && byCode.length === 1) { choose(byCode[0]); return; }
    if (exact && /^[0-9]{6,14}$/.test(q) && !byCode.length) {
      fillNewBarcode(q);  // a scanned code the catalogue does not know: a new product
    }
    showResults(data.products, q);
  }

  function fillNewBarcode(code) {
    const field = $("teach-new-barcode");
    if (!field) { showError(_("No product has barcode %(code)s: ask the owner to add it to the catalogue.", { code: code })); return; }
    field.value = code;
    $("teach-new").open = true;
    const sku = document.querySelector("#teach-new-form [name=sku]");
    if (sku && !sku.value) sku.focus();
  }

  const searchBox = $("teach-search");
  if (searchBox) {
    searchBox.addEventListener("input", function () {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(function () { search(searchBox.value, false).catch(function () {}); }, 200);
    });
    // a USB barcode scanner types the code and Enter
    searchBox.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") { ev.preventDefault(); clearTimeout(searchTimer); search(searchBox.value, true).catch(function () {}); }
    });
  }

  // a scanner typing while no field has the focus: a fast burst of digits and Enter
  let burst = "", burstAt = 0;
  document.addEventListener("keydown", function (ev) {
    const tag = (document.activeElement && document.activeElement.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || $("teach-pick").hidden) return;
    const now = Date.now();
    if (now - burstAt > 80) burst = "";
    burstAt = now;
    if (/^[0-9]$/.test(ev.key)) { burst += ev.key; return; }
    if (ev.key === "Enter" && /^[0-9]{6,14}$/.test(burst)) {
      ev.preventDefault();
      if (searchBox) searchBox.value = burst;
      search(burst, true).catch(function () {});
      burst = "";
    }
  });

  const readBarcode = $("teach-read-barcode");
  if (readBarcode) {
    readBarcode.addEventListener("click", async function () {
      const data = await call("GET", "/api/teach/barcode").catch(function () { return null; });
      if (!data) return;
      if (!data.barcode) { showError(_("The camera sees no barcode: hold it flat under the camera, or scan it.")); return; }
      if (data.product) { choose(data.product); return; }
      fillNewBarcode(data.barcode);
    });
  }

  const newForm = $("teach-new-form");
  if (newForm) {
    newForm.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      const body = Object.fromEntries(new FormData(newForm).entries());
      if (!body.barcode) delete body.barcode;
      const data = await call("POST", "/api/products", body).catch(function () { return null; });
      if (data) { newForm.reset(); choose(data.product); }
    });
  }

  // -- step 2: the teaching session ------------------------------------------------------------
  function renderViews(views) {
    const list = $("teach-views");
    const want = views.map(function (v) { return String(v.id); });
    const have = Array.from(list.children).map(function (li) { return li.dataset.viewId; });
    if (want.join(",") === have.join(",")) return;
    list.replaceChildren();
    views.forEach(function (v, i) {
      list.append(T.el("li", { class: "view", "data-view-id": String(v.id) }, [
        T.el("img", { src: "/teach/views/" + v.id + ".jpg", alt: _("View %(number)s", { number: i + 1 }) }),
        T.el("span", { class: "view-no", text: String(i + 1) }),
        T.el("button", { type: "button", class: "drop small", onclick: function () {
          call("POST", "/api/teach/views/" + v.id + "/drop").then(function (s) { render(s); }).catch(function () {});
        } }, [_("Drop")]),
      ]));
    });
  }

  function render(s, force) {
    status = s;
    if (!force && s.seq === shownSeq) return;
    shownSeq = s.seq;
    const active = s.state === "empty" || s.state === "capturing" || s.state === "saving";
    if (active && s.sku) {
      chosen = chosen && chosen.sku === s.sku ? chosen : { sku: s.sku, name: s.name };
      $("teach-name").textContent = s.name;
      $("teach-sku").textContent = s.sku;
    }
    const done = s.state === "saved";
    $("teach-pick").hidden = active || done || !!chosen;
    $("teach-product").hidden = done || (!active && !chosen);
    $("teach-done").hidden = !done;
    if (done && s.result) $("teach-result").textContent = s.message;
    $("teach-message").textContent = active ? s.message
      : _("Press Start teaching, then follow the steps. It takes under a minute.");
    const warning = s.paused ? s.message : (s.error || s.warning);
    $("teach-warning").textContent = warning || "";
    $("teach-warning").hidden = !warning || warning === $("teach-message").textContent;
    $("teach-count").textContent = s.views.length + " / " + s.min_views;
    $("teach-count").className = "pill" + (s.views.length >= s.min_views ? " ok" : "");
    $("teach-start").hidden = active;
    $("teach-other").hidden = active;
    $("teach-empty").hidden = s.state !== "empty" || !s.warning;
    $("teach-approve").hidden = !active;
    $("teach-approve").disabled = !s.can_approve;
    $("teach-cancel").hidden = !active;
    root.dataset.state = s.state;
    root.dataset.seq = String(s.seq);
    renderViews(active ? s.views : []);
    const cam = $("teach-camera");
    if (cam) {
      // the live stream only while teaching (it holds a connection open)
      if (active && !cam.getAttribute("src")) cam.src = cam.dataset.src;
      if (!active && cam.getAttribute("src")) cam.removeAttribute("src");
    }
  }

  $("teach-start").addEventListener("click", function () {
    if (!chosen) return;
    call("POST", "/api/teach/start", { sku: chosen.sku }).then(function (s) { render(s); }).catch(function () {});
  });
  $("teach-empty").addEventListener("click", function () {
    call("POST", "/api/teach/empty").then(function (s) { render(s); }).catch(function () {});
  });
  $("teach-cancel").addEventListener("click", function () {
    call("POST", "/api/teach/cancel").then(function (s) { render(s, true); }).catch(function () {});
  });
  $("teach-approve").addEventListener("click", function () {
    $("teach-approve").disabled = true;
    $("teach-message").textContent = _("Saving…");
    call("POST", "/api/teach/approve").then(function (s) { render(s); })
      .catch(function () { $("teach-approve").disabled = !status.can_approve; });
  });
  $("teach-other").addEventListener("click", function () {
    chosen = null;
    render(status, true);
    if (searchBox) searchBox.focus();
  });
  $("teach-again").addEventListener("click", function () {
    chosen = null;
    call("POST", "/api/teach/cancel").then(function (s) { render(s, true); }).catch(function () {});
    if (searchBox) { searchBox.value = ""; showResults([], ""); searchBox.focus(); }
  });

  async function poll() {
    try {
      render(await T.api("GET", root.dataset.statusUrl));
    } catch (err) {
      if (err.status === 401 || err.status === 403) { showError(err.message); return; }
    }
    setTimeout(poll, POLL_MS);
  }
  render(status, true);
  poll();
})();
