// The Insights tab: owners' "write again" / "describe" buttons POST to the page's JSON API (with the
// CSRF token, through Hub.api) and reload the page to show the stored result.
(function () {
  "use strict";
  const error = document.getElementById("insights-error");
  document.querySelectorAll("button.regen").forEach(function (button) {
    button.addEventListener("click", function () {
      const body = button.dataset.period ? { period: button.dataset.period } : {};
      button.disabled = true;
      button.textContent = _("Writing…");
      window.Hub.api("POST", button.dataset.url, body).then(function () {
        window.location.reload();
      }).catch(function (err) {
        button.disabled = false;
        button.textContent = _("Try again");
        if (error) { error.hidden = false; error.textContent = err.message; }
      });
    });
  });
})();
