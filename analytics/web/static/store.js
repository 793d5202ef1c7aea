// The store page's daily sales chart: bars of net sales per store-local day (from the JSON API).
(function () {
  "use strict";
  const canvas = document.getElementById("daily-chart");
  if (!canvas || !window.Chart) return;
  const currency = canvas.dataset.currency || "";
  window.Hub.api("GET", canvas.dataset.url).then(function (data) {
    const labels = data.rows.map(function (r) { return r.date.slice(5); });
    const values = data.rows.map(function (r) { return window.Hub.major(r.sales, currency); });
    const counts = data.rows.map(function (r) { return r.transactions; });
    canvas.dataset.days = String(data.rows.length);
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: [{ label: _("Net sales"), data: values, backgroundColor: "#2f6f52" }] },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: false }, tooltip: { callbacks: {
          label: function (ctx) {
            const r = data.rows[ctx.dataIndex];
            return window.Hub.money(r.sales, currency) + " · " + _("%(count)s sales", { count: counts[ctx.dataIndex] });
          } } } },
        scales: { y: { beginAtZero: true } }
      }
    });
    canvas.dataset.ready = "yes";
  }).catch(function (err) {
    const p = document.createElement("p");
    p.className = "error";
    p.textContent = _("Could not load the chart: %(error)s", { error: err.message });
    canvas.parentNode.appendChild(p);
  });
})();
