// The Trend tab's charts: daily net sales of the weeks before the analysis date, then the 28-day
// forecast with its 80% and 95% prediction intervals as shaded bands; below, the same for the
// daily sales count (80% band).  One call to the trend API (the table the page exports) feeds both.
(function () {
  "use strict";
  const canvas = document.getElementById("trend-chart");
  const salesCanvas = document.getElementById("sales-chart");
  if (!canvas || !window.Chart) return;
  const currency = canvas.dataset.currency || "";
  const major = function (v) { return v === null || v === undefined ? null : window.Hub.major(v, currency); };

  function series(label, values, money, style) {
    // ``values`` in the API's units (minor units for money); the chart plots money in major units
    // and the tooltip formats the exact minor amount with the store's currency
    const ds = { label: label, data: money ? values.map(major) : values, minor: money ? values : null,
                 pointRadius: 0, fill: false };
    return Object.assign(ds, style || {});
  }
  function band(label, lo, hi, money, colour) {
    // the upper edge (hidden from the legend and the tooltip), then the lower edge filled up to it
    return [series(label, hi, money, { borderWidth: 0, helper: true }),
            series(label, lo, money, { borderWidth: 0, fill: "-1", backgroundColor: colour })];
  }
  function options(money) {
    const ticks = money ? { callback: function (v) {
      return window.Hub.money(Math.round(v / window.Hub.major(1, currency)), currency).replace(/\.0+$/, "");
    } } : {};
    return {
      responsive: true, maintainAspectRatio: false, animation: false, spanGaps: false,
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: { labels: { filter: function (item, data) { return !data.datasets[item.datasetIndex].helper; } } },
        tooltip: { filter: function (item) { return !item.dataset.helper && item.raw !== null; },
          callbacks: { label: function (ctx) {
            const m = ctx.dataset.minor;
            const text = m ? window.Hub.money(m[ctx.dataIndex], currency) : I18n.number(ctx.raw);
            return ctx.dataset.label + ": " + text;
          } } }
      },
      scales: { y: { beginAtZero: true, ticks: ticks }, x: { ticks: { maxTicksLimit: 16 } } }
    };
  }

  function draw(rows) {
    const labels = rows.map(function (r) { return r.day; });
    const actual = function (key) { return rows.map(function (r) { return r.kind === "actual" ? r[key] : null; }); };
    const ahead = function (key) { return rows.map(function (r) { return r.kind === "forecast" ? r[key] : null; }); };
    const actualDays = rows.filter(function (r) { return r.kind === "actual"; }).length;

    new window.Chart(canvas, {
      type: "line",
      data: { labels: labels, datasets: [].concat(
        band(_("95% interval"), ahead("lo95"), ahead("hi95"), true, "rgba(199, 125, 0, 0.15)"),
        band(_("80% interval"), ahead("lo80"), ahead("hi80"), true, "rgba(199, 125, 0, 0.30)"),
        [series(_("Net sales"), actual("revenue"), true, { borderColor: "#2f6f52", backgroundColor: "#2f6f52", borderWidth: 2 }),
         series(_("Forecast"), ahead("forecast"), true, { borderColor: "#c77d00", backgroundColor: "#c77d00",
                                                       borderDash: [6, 4], borderWidth: 2 })]) },
      options: options(true)
    });
    if (salesCanvas) {
      new window.Chart(salesCanvas, {
        type: "line",
        data: { labels: labels, datasets: [].concat(
          band(_("80% interval"), ahead("sales_lo80"), ahead("sales_hi80"), false, "rgba(18, 54, 90, 0.20)"),
          [series(_("Sales count"), actual("sales"), false, { borderColor: "#2f6f52", backgroundColor: "#2f6f52", borderWidth: 2 }),
           series(_("Forecast"), ahead("sales_forecast"), false, { borderColor: "#12365a", backgroundColor: "#12365a",
                                                                borderDash: [6, 4], borderWidth: 2 })]) },
        options: options(false)
      });
      salesCanvas.dataset.ready = "yes";
    }
    canvas.dataset.actualDays = String(actualDays);
    canvas.dataset.forecastDays = String(rows.length - actualDays);
    canvas.dataset.ready = "yes";
  }

  window.Hub.api("GET", canvas.dataset.url).then(function (data) { draw(data.rows); }).catch(function (err) {
    const p = document.createElement("p");
    p.className = "error";
    p.textContent = _("Could not load the chart: %(error)s", { error: err.message });
    canvas.parentNode.appendChild(p);
  });
})();
