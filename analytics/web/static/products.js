// The Products tab's SKU chart: units sold per store-local day before the analysis date, then the
// 28-day forecast with its 80% and 95% prediction intervals (shaded), from the SKU forecast API.
(function () {
  "use strict";
  const canvas = document.getElementById("sku-chart");
  if (!canvas || !window.Chart) return;

  function line(label, data, style) {
    return Object.assign({ label: label, data: data, pointRadius: 0, fill: false }, style || {});
  }
  function band(label, lo, hi, colour) {
    return [line(label + " (upper)", hi, { borderWidth: 0, helper: true }),
            line(label, lo, { borderWidth: 0, fill: "-1", backgroundColor: colour })];
  }

  window.Hub.api("GET", canvas.dataset.url).then(function (data) {
    const rows = data.rows;
    const pick = function (kind, key) { return rows.map(function (r) { return r.kind === kind ? r[key] : null; }); };
    new window.Chart(canvas, {
      type: "line",
      data: { labels: rows.map(function (r) { return r.day; }), datasets: [].concat(
        band(_("95% interval"), pick("forecast", "lo95"), pick("forecast", "hi95"), "rgba(199, 125, 0, 0.15)"),
        band(_("80% interval"), pick("forecast", "lo80"), pick("forecast", "hi80"), "rgba(199, 125, 0, 0.30)"),
        [line(_("Units sold"), pick("actual", "units"), { borderColor: "#2f6f52", backgroundColor: "#2f6f52", borderWidth: 2 }),
         line(_("Forecast (%(model)s)", { model: data.model }), pick("forecast", "mean"),
              { borderColor: "#c77d00", backgroundColor: "#c77d00", borderDash: [6, 4], borderWidth: 2 })]) },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false, spanGaps: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { labels: { filter: function (item, d) { return !d.datasets[item.datasetIndex].helper; } } },
          tooltip: { filter: function (item) { return !item.dataset.helper && item.raw !== null; } }
        },
        scales: { y: { beginAtZero: true, title: { display: true, text: _("units") } }, x: { ticks: { maxTicksLimit: 16 } } }
      }
    });
    canvas.dataset.sku = data.sku;
    canvas.dataset.forecastDays = String(rows.filter(function (r) { return r.kind === "forecast"; }).length);
    canvas.dataset.ready = "yes";
  }).catch(function (err) {
    const p = document.createElement("p");
    p.className = "error";
    p.textContent = _("Could not load the chart: %(error)s", { error: err.message });
    canvas.parentNode.appendChild(p);
  });
})();
