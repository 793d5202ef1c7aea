// A searchable product picker for forms (the receiving page): type part of a name, a SKU or a barcode (a
// scanner types the barcode and Enter), pick with a tap, a click or the arrow keys and Enter.  Works on a
// catalogue of thousands of products: the page embeds them once as JSON and the search runs in the browser.
//
// Markup: <div data-product-picker data-products="ID of a <script type=application/json>">
//   <input type=text role=combobox aria-controls=LIST> <input type=hidden name=sku> <ul id=LIST role=listbox>
//   <span data-picker-chosen></span></div>
// Each product is [sku, name, barcode, cost in minor units or null, category].  Without JavaScript the text
// field is posted as it is and the server accepts a SKU, a barcode or a product's exact name.
(function () {
  "use strict";
  const T = window.Tillsight;
  const SHOWN = 40;  // options listed at once: keep typing to narrow a longer list

  function fold(text) {  // lower case without accents: "Café" is found by "cafe"
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function setup(root) {
    const input = root.querySelector("input[role=combobox]");
    const hidden = root.querySelector("input[type=hidden]");
    const list = document.getElementById(input.getAttribute("aria-controls"));
    const chosenNote = root.querySelector("[data-picker-chosen]");
    const source = document.getElementById(root.dataset.products);
    const products = JSON.parse(source.textContent).map(function (p) {
      return { sku: p[0], name: p[1], barcode: p[2] || "", cost: p[3], category: p[4] || "",
               hay: fold(p[1] + " " + p[0] + " " + (p[2] || "") + " " + (p[4] || "")), name_key: fold(p[1]),
               sku_key: fold(p[0]) };
    });
    const bySku = new Map(products.map(function (p) { return [p.sku, p]; }));
    let matches = [];
    let active = -1;

    function describe(p) {
      const cost = p.cost === null || p.cost === undefined ? _("no cost") : _("cost %(cost)s", { cost: T.money(p.cost) });
      return p.sku + (p.barcode ? " · " + p.barcode : "") + " · " + cost;
    }

    function exact(text) {  // the one product whose SKU or barcode is the text, or whose name is it exactly
      const key = fold(text.trim());
      if (!key) return null;
      const hits = products.filter(function (p) { return p.sku_key === key || p.barcode === text.trim(); });
      if (hits.length === 1) return hits[0];
      const named = products.filter(function (p) { return p.name_key === key; });
      return named.length === 1 ? named[0] : null;
    }

    function search(text) {
      const words = fold(text).split(/\s+/).filter(Boolean);
      if (!words.length) return [];
      const key = words.join(" ");
      const found = products.filter(function (p) {
        return words.every(function (w) { return p.hay.indexOf(w) >= 0; });
      });
      const rank = function (p) {
        if (p.sku_key === key || p.barcode === key) return 0;
        if (p.name_key.indexOf(key) === 0) return 1;
        if (p.name_key.indexOf(" " + words[0]) >= 0 || p.sku_key.indexOf(key) === 0) return 2;
        return 3;
      };
      found.sort(function (a, b) { return rank(a) - rank(b) || a.name_key.localeCompare(b.name_key); });
      return found;
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      const options = list.querySelectorAll("[role=option]");
      options.forEach(function (o, i) { o.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function makeRoom() {
      // on a small screen (the till's 800x480) the field may sit low: scroll it up so the matches fit below it
      const below = window.innerHeight - input.getBoundingClientRect().bottom;
      if (below < 220) window.scrollBy(0, Math.min(input.getBoundingClientRect().top - 8, 220 - below));
      list.style.maxHeight = Math.max(120, window.innerHeight - input.getBoundingClientRect().bottom - 12) + "px";
    }

    function render() {
      makeRoom();
      list.textContent = "";
      if (!input.value.trim()) { close(); return; }
      if (!matches.length) {
        list.appendChild(T.el("li", { class: "picker-empty", role: "presentation" }, [_("No product matches.")]));
      }
      matches.slice(0, SHOWN).forEach(function (p, i) {
        const option = T.el("li", { id: list.id + "-" + i, role: "option", "aria-selected": "false",
                                    "data-sku": p.sku }, [
          T.el("span", { class: "picker-name" }, [p.name]),
          T.el("span", { class: "picker-facts" }, [describe(p)])]);
        list.appendChild(option);
      });
      if (matches.length > SHOWN) {
        list.appendChild(T.el("li", { class: "picker-more", role: "presentation" }, [
          ngettext("%(num)d more product: keep typing to narrow the list.",
                   "%(num)d more products: keep typing to narrow the list.", matches.length - SHOWN)]));
      }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(matches.length ? 0 : -1);
    }

    function choose(p, moveOn) {
      hidden.value = p.sku;
      input.value = p.name;
      chosenNote.textContent = describe(p);
      root.classList.remove("invalid");
      root.classList.add("chosen");
      close();
      root.dispatchEvent(new CustomEvent("picker:chosen", { detail: { sku: p.sku }, bubbles: true }));
      if (moveOn) {
        const next = input.form && input.form.querySelector("[data-picker-next]");
        if (next) next.focus();
      }
    }

    input.addEventListener("input", function () {
      hidden.value = "";
      root.classList.remove("chosen");
      chosenNote.textContent = "";
      matches = search(input.value);
      render();
    });
    input.addEventListener("keydown", function (ev) {
      const count = Math.min(matches.length, SHOWN);
      if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        ev.preventDefault();
        if (list.hidden) { matches = search(input.value); render(); return; }
        if (!count) return;
        highlight(ev.key === "ArrowDown" ? (active + 1) % count : (active - 1 + count) % count);
      } else if (ev.key === "Enter") {
        // a scanner's Enter, or picking from the list: never posts the form from here
        ev.preventDefault();
        const hit = exact(input.value) || (!list.hidden && active >= 0 ? matches[active] : null);
        if (hit) choose(hit, true);
        else if (input.value.trim()) { matches = search(input.value); render(); }
      } else if (ev.key === "Escape") {
        close();
      }
    });
    list.addEventListener("mousedown", function (ev) { ev.preventDefault(); });  // keep the focus in the field
    list.addEventListener("click", function (ev) {
      const option = ev.target.closest("[role=option]");
      if (option) choose(bySku.get(option.dataset.sku), true);
    });
    input.addEventListener("blur", function () {
      close();
      if (!hidden.value) {  // typed or scanned without picking: take it when it names exactly one product
        const hit = exact(input.value);
        if (hit) choose(hit, false);
      }
    });
    if (input.form) {
      input.form.addEventListener("submit", function (ev) {
        if (hidden.value) return;
        const hit = exact(input.value);
        if (hit) { choose(hit, false); return; }
        ev.preventDefault();
        root.classList.add("invalid");
        chosenNote.textContent = input.value.trim() ? _("Pick the product from the list.")
                                                     : _("Type a name or SKU, or scan the barcode");
        input.focus();
      });
    }
    if (hidden.value && bySku.has(hidden.value)) {
      const p = bySku.get(hidden.value);
      chosenNote.textContent = describe(p);
      root.classList.add("chosen");
    }
  }

  document.querySelectorAll("[data-product-picker]").forEach(setup);
})();
