// The Credit tab's message composer: POST {customer_id, tone, language} (with the CSRF token, via
// Hub.api) and show the SMS, WhatsApp and e-mail texts with where they came from.
(function () {
  "use strict";
  const form = document.getElementById("composer-form");
  if (!form) return;
  const $ = function (id) { return document.getElementById(id); };
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    const button = $("composer-submit");
    button.disabled = true;
    $("composer-error").hidden = true;
    const body = { customer_id: $("composer-customer").value, tone: $("composer-tone").value,
                   language: $("composer-language").value };
    window.Hub.api("POST", form.dataset.url, body).then(function (m) {
      $("composer-sms").textContent = m.sms;
      $("composer-sms-info").textContent = _("(%(chars)s characters, %(parts)s SMS, %(encoding)s)",
                                              { chars: m.sms_chars, parts: m.sms_parts, encoding: m.sms_encoding });
      $("composer-whatsapp").textContent = m.whatsapp;
      $("composer-subject").textContent = m.email_subject;
      $("composer-email").textContent = m.email_body;
      const source = $("composer-source");
      source.textContent = m.source === "computed" ? _("computed") : _("AI");
      source.className = "pill " + (m.source === "computed" ? "warn" : "ok");
      $("composer-note").textContent = m.note;
      $("composer-result").hidden = false;
      form.dataset.ready = "yes";
    }).catch(function (err) {
      $("composer-error").textContent = _("Could not write the message: %(error)s", { error: err.message });
      $("composer-error").hidden = false;
    }).finally(function () { button.disabled = false; });
  });
})();
