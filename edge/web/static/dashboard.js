// Owner dashboard: Chart.js charts from the JSON API, the live store pulse refreshed every 30 s,
// and the alert "Acknowledge" buttons (also on the sale page).  No inline script: the page hands
// over URLs in data- attributes.
(function () {
  "use strict";
  const T = window.Tillsight;
  const REFRESH_MS = 30000;
  const BRAND = "#12365a", USUAL = "#c77d00";
  const METHOD_COLORS = { cash: "#1f8a4c", card: "#12365a", mobile_money: "#7b4bb3", credit: "#c77d00" };
  const charts = {};

  function pct(v, usual) {
    if (v === null || v === undefined) return usual === null || usual === undefined ? _("no usual yet") : "";
    return _("%(change)s%% vs usual", { change: (v > 0 ? "+" : "") + I18n.number(v) });
  }
  const ARROWS = { up: "▲", down: "▼", flat: "▶", none: "" };

  function trend(c, isMoney) {
    const nodes = [T.el("span", { class: "trend " + c.trend, text: (ARROWS[c.trend] ? ARROWS[c.trend] + " " : "") + pct(c.change_pct, c.usual) })];
    if (c.usual !== null && c.usual !== undefined) {
      nodes.push(" ", T.el("span", { class: "muted", text: _("(usual %(value)s)", { value: isMoney ? T.money(c.usual) : I18n.number(c.usual, 1) }) }));
    }
    return nodes;
  }

  function item(metric, label, value, extra, wide) {
    return T.el("div", { class: "pulse-item" + (wide ? " wide" : ""), "data-metric": metric },
      [T.el("span", { class: "label" }, label), T.el("span", { class: "value", text: value })].concat(extra));
  }

  function renderPulse(p) {
    const grid = T.el("div", { class: "pulse-grid" });
    const hourExtra = trend(p.sales_this_hour, true);
    if (p.usual_full_hour_sales !== null) hourExtra.push(T.el("span", { class: "muted small", text: _("whole hour usually %(value)s", { value: T.money(p.usual_full_hour_sales) }) }));
    grid.append(item("sales_this_hour", [_("Sales this hour") + " ", T.el("span", { class: "muted", text: p.window })], T.money(p.sales_this_hour.actual), hourExtra));
    const txExtra = trend(p.transactions_this_hour, false);
    if (p.usual_full_hour_transactions !== null) txExtra.push(T.el("span", { class: "muted small", text: _("whole hour usually %(value)s", { value: I18n.number(p.usual_full_hour_transactions, 1) }) }));
    grid.append(item("transactions_this_hour", [_("Customers this hour")], String(p.transactions_this_hour.actual), txExtra));
    grid.append(item("sales_today", [_("Sales today so far")], T.money(p.sales_today.actual), trend(p.sales_today, true)));
    const basketExtra = trend(p.basket_value, true);
    basketExtra.push(T.el("span", { class: "muted small", text: _("%(items)s items per basket", { items: I18n.number(p.basket_items.actual) }) +
      (p.basket_items.change_pct !== null ? " (" + pct(p.basket_items.change_pct) + ")" : "") }));
    grid.append(item("basket_value", [_("Average basket today")], T.money(p.basket_value.actual), basketExtra));
    let low;
    if (p.running_low.length) {
      low = T.el("ul", { class: "running-low" }, p.running_low.slice(0, 8).map(function (s) {
        if (s.stock_qty <= 0) return T.el("li", {}, [T.el("strong", { text: s.name }), " — ", T.el("span", { class: "pill bad", text: _("out of stock") })]);
        const li = T.el("li", {}, [T.el("strong", { text: s.name }), " — " + _("%(qty)s left", { qty: s.stock_qty })]);
        if (s.low) li.append(" ", T.el("span", { class: "pill bad", text: _("at or below reorder level %(level)s", { level: s.reorder_level }) }));
        if (s.runs_out_soon && s.days_left !== null) li.append(" ", T.el("span", { class: "pill warn", text: ngettext("runs out in ~%(num)d day", "runs out in ~%(num)d days", s.days_left) }));
        return li;
      }));
      if (p.running_low.length > 8) low.append(T.el("li", { class: "muted", text: _("and %(count)s more (see Stock)", { count: p.running_low.length - 8 }) }));
    } else {
      low = T.el("span", { class: "notice", text: _("Nothing is running low.") });
    }
    grid.append(T.el("div", { class: "pulse-item wide", "data-metric": "running_low" }, [T.el("span", { class: "label", text: _("Running low") }), low]));
    const note = T.el("p", { class: "muted small", id: "pulse-note", text: _("As of %(time)s store time.", { time: p.at.slice(11, 16) }) + " " +
      (p.usual_weeks ? ngettext("\"Usual\" is the mean of this weekday over the last %(num)d week, at the same time of day.",
                                "\"Usual\" is the mean of this weekday over the last %(num)d weeks, at the same time of day.", p.usual_weeks)
        : _("No earlier weeks to compare with yet.")) });
    return [grid, note];
  }

  function hoursShown(hours) {
    let lo = 24, hi = -1;
    hours.forEach(function (h) {
      if (h.sales || h.transactions || h.usual_sales) { lo = Math.min(lo, h.hour); hi = Math.max(hi, h.hour); }
    });
    if (hi < 0) { lo = 7; hi = 21; }
    return hours.slice(Math.max(0, Math.min(lo, 7)), Math.min(24, Math.max(hi, 20) + 1));
  }

  function hourlyData(series) {
    const hours = hoursShown(series.hours);
    const label = series.date === document.getElementById("dashboard").dataset.date && document.getElementById("dashboard").dataset.today === "yes" ? "Today" : series.date;
    const datasets = [{ type: "bar", label: label, data: hours.map(function (h) { return h.sales; }),
      backgroundColor: BRAND, borderRadius: 3, order: 2, tx: hours.map(function (h) { return h.transactions; }) }];
    if (series.usual_weeks) {
      datasets.push({ type: "line", label: _("Usual %(weekday)s (%(weeks)s wk)", { weekday: series.weekday, weeks: series.usual_weeks }),
        data: hours.map(function (h) { return h.usual_sales; }), borderColor: USUAL, backgroundColor: USUAL,
        tension: 0.3, pointRadius: 2, order: 1, tx: hours.map(function (h) { return h.usual_transactions; }) });
    }
    return { labels: hours.map(function (h) { return String(h.hour).padStart(2, "0") + ":00"; }), datasets: datasets };
  }

  async function drawHourly() {
    const canvas = document.getElementById("chart-hourly");
    if (!canvas) return;
    const series = await T.api("GET", canvas.dataset.src);
    const data = hourlyData(series);
    const note = document.getElementById("hourly-note");
    if (note) note.textContent = series.usual_weeks ? _("Usual: mean of %(dates)s.", { dates: series.usual_dates.join(", ") })
      : _("No earlier %(weekday)s to compare with yet.", { weekday: series.weekday });
    if (charts.hourly) { charts.hourly.data = data; charts.hourly.update("none"); return; }
    charts.hourly = new Chart(canvas, {
      data: data,
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        scales: { y: { beginAtZero: true, ticks: { callback: function (v) { return T.money(v).replace(/[.,]00$/, ""); } } } },
        plugins: { tooltip: { callbacks: { label: function (ctx) {
          const tx = ctx.dataset.tx ? ctx.dataset.tx[ctx.dataIndex] : null;
          return ctx.dataset.label + ": " + T.money(ctx.parsed.y || 0) + (tx !== null ? " · " + ngettext("%(num)d sale", "%(num)d sales", tx) : "");
        } } } }
      }
    });
  }

  function fillPaymentTable(methods) {
    const body = document.querySelector("#payment-table tbody");
    if (!body) return;
    const rows = methods.map(function (m) {
      return T.el("tr", {}, [T.el("td", { text: m.label }), T.el("td", { class: "num", text: String(m.transactions) }),
        T.el("td", { class: "num", text: T.money(m.amount) }), T.el("td", { class: "num", text: I18n.number(Math.round(m.share * 100)) + " %" })]);
    });
    body.replaceChildren.apply(body, rows.length ? rows : [T.el("tr", {}, [T.el("td", { colspan: "4", class: "muted", text: _("No payments on this day.") })])]);
  }

  async function drawPayments() {
    const canvas = document.getElementById("chart-payments");
    if (!canvas) return;
    const mix = await T.api("GET", canvas.dataset.src);
    const rows = mix.methods.filter(function (m) { return m.amount > 0; });
    const data = { labels: rows.map(function (m) { return m.label; }), datasets: [{
      data: rows.map(function (m) { return m.amount; }),
      backgroundColor: rows.map(function (m) { return METHOD_COLORS[m.method] || "#888"; }),
      shares: rows.map(function (m) { return m.share; }) }] };
    fillPaymentTable(mix.methods);
    if (charts.payments) { charts.payments.data = data; charts.payments.update("none"); return; }
    charts.payments = new Chart(canvas, {
      type: "doughnut", data: data,
      options: { responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { position: "right" }, tooltip: { callbacks: { label: function (ctx) {
          return ctx.label + ": " + T.money(ctx.parsed) + " (" + Math.round(ctx.dataset.shares[ctx.dataIndex] * 100) + " %)";
        } } } } }
    });
  }

  function setText(id, text) { const n = document.getElementById(id); if (n) n.textContent = text; }

  async function refreshSummary(root) {
    const s = await T.api("GET", root.dataset.summaryUrl);
    ["net_sales", "avg_basket", "refund_total"].forEach(function (k) { setText("kpi-" + k, T.money(s[k])); });
    ["transactions", "items_sold", "refunds", "voided", "open_alerts"].forEach(function (k) { setText("kpi-" + k, String(s[k])); });
    if (s.profit) {
      setText("kpi-gross_profit", T.money(s.profit.gross_profit));
      setText("kpi-uncosted_revenue", T.money(s.profit.uncosted_revenue));
    }
  }

  async function refreshTop(root) {
    const top = await T.api("GET", root.dataset.topUrl);
    const body = document.querySelector("#top-products tbody");
    if (!body) return;
    const rows = top.products.map(function (p) {
      return T.el("tr", {}, [T.el("td", {}, [p.name + " ", T.el("span", { class: "muted small", text: p.sku })]),
        T.el("td", { class: "num", text: String(p.qty) }), T.el("td", { class: "num", text: T.money(p.revenue) })]);
    });
    body.replaceChildren.apply(body, rows.length ? rows : [T.el("tr", {}, [T.el("td", { colspan: "3", class: "muted", text: _("No sales on this day yet.") })])]);
  }

  async function refreshPulse(root) {
    const p = await T.api("GET", root.dataset.pulseUrl);
    const body = document.getElementById("pulse-body");
    body.replaceChildren.apply(body, renderPulse(p));
  }

  async function refresh(root) {
    const status = document.getElementById("pulse-status");
    const jobs = [refreshPulse(root)];
    if (root.dataset.today === "yes") {
      jobs.push(refreshSummary(root), refreshTop(root));
      if (typeof window.Chart !== "undefined") jobs.push(drawHourly(), drawPayments());
    }
    const results = await Promise.allSettled(jobs);
    const failed = results.filter(function (r) { return r.status === "rejected"; });
    if (failed.length && failed[0].reason && failed[0].reason.status === 401) { window.location.reload(); return; }
    if (status) status.textContent = failed.length ? _("could not refresh: %(error)s", { error: failed[0].reason.message })
      : _("updated %(time)s · refreshes every 30 s", { time: I18n.time(new Date()) });
  }

  function bindAcks() {
    document.addEventListener("click", async function (ev) {
      const btn = ev.target.closest("button.ack");
      if (!btn) return;
      btn.disabled = true;
      try {
        const res = await T.api("POST", "/api/alerts/" + encodeURIComponent(btn.dataset.alertId) + "/ack");
        const box = btn.parentNode;
        box.replaceChildren(T.el("span", { class: "muted small", text: _("acknowledged by you at %(time)s", { time: I18n.time(new Date()) }) }));
        const li = document.getElementById("alert-" + res.alert.id);
        if (li) { li.classList.remove("open"); li.classList.add("acked"); }
        const open = document.getElementById("kpi-open_alerts");
        if (open && /^\d+$/.test(open.textContent) && +open.textContent > 0) open.textContent = String(+open.textContent - 1);
      } catch (err) {
        btn.disabled = false;
        btn.parentNode.append(T.el("span", { class: "error", text: " " + err.message }));
      }
    });
  }

  function init() {
    bindAcks();
    const root = document.getElementById("dashboard");
    if (!root) return;  // the sale page only needs the acknowledge buttons
    if (typeof window.Chart === "undefined") {
      document.querySelectorAll(".chart-box").forEach(function (b) { b.replaceChildren(T.el("p", { class: "error", text: _("The chart library did not load.") })); });
    } else {
      Chart.defaults.font.family = "system-ui, sans-serif";
      drawHourly().catch(function (e) { setText("hourly-note", _("Chart unavailable: %(error)s", { error: e.message })); });
      drawPayments().catch(function () { /* the table below the chart still shows the mix */ });
    }
    window.setInterval(function () { refresh(root); }, REFRESH_MS);
    window.TillsightDashboard = { refresh: function () { return refresh(root); }, charts: charts };
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
