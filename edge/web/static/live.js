"use strict";
// Polls the basket and health APIs; the camera view is a plain MJPEG <img>.
(function () {
  const currency = document.body.dataset.currency || "";
  const money = (minor) => (minor / 100).toFixed(2) + " " + currency;
  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };

  async function refreshBasket() {
    try {
      const r = await fetch("api/basket", {cache: "no-store"});
      const b = await r.json();
      const body = document.getElementById("lines");
      body.replaceChildren();
      for (const it of b.items) {
        const tr = el("tr"); tr.dataset.sku = it.sku;
        const name = el("td", "name", it.name);
        if (it.alternatives.length) name.appendChild(el("span", "alt", "or: " + it.alternatives.map(a => a.name).join(", ")));
        tr.append(name, el("td", "", Math.round(it.confidence * 100) + "%"), el("td", "num", money(it.unit_price)));
        body.appendChild(tr);
      }
      document.getElementById("total").textContent = money(b.total);
      const s = document.getElementById("settled");
      s.textContent = b.settled ? "settled" : "changing";
      s.className = "pill " + (b.settled ? "ok" : "warn");
      const ev = document.getElementById("events");
      ev.replaceChildren(...b.events.slice().reverse().map(e => el("li", e.kind, e.name)));
    } catch (err) { /* the next poll retries */ }
  }
  async function refreshHealth() {
    const h = document.getElementById("health");
    try {
      const r = await fetch("api/health", {cache: "no-store"});
      const j = await r.json();
      h.textContent = _("camera %(state)s · %(fps)s fps · %(ms)s ms", { state: j.camera.state, fps: j.camera.fps, ms: j.inference.ms });
      h.className = "pill " + (j.ok ? "ok" : "bad");
    } catch (err) { h.textContent = _("offline"); h.className = "pill bad"; }
  }
  refreshBasket(); refreshHealth();
  setInterval(refreshBasket, 500);
  setInterval(refreshHealth, 2000);
})();
