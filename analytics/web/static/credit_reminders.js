// Sending collection reminders (the Credit tab and a customer's page): POST the picked customers with the
// form's idempotency key (a double click or a resend repeats it, so the hub sends once), show what happened
// to each customer, and take the next key for the next send. Also the customer's contact form and the
// "Send again" buttons of failed reminders. Every call goes through Hub.api (with the CSRF token).
(function () {
  "use strict";
  const $ = function (id) { return document.getElementById(id); };

  function line(r) {
    const li = document.createElement("li");
    li.dataset.customer = r.customer_id;
    li.dataset.status = r.status;
    // the placeholders in one variable: Babel's extractor reads commas inside an object literal as more arguments
    const vars = { name: r.name, channel: r.channel_text || r.channel, error: r.reason, reason: r.reason };
    let text;
    if (r.status === "sent") text = _("%(name)s: sent by %(channel)s", vars);
    else if (r.status === "failed") text = _("%(name)s: not sent (%(error)s); you can send it again from their page", vars);
    else if (r.status === "duplicate") text = _("%(name)s: already handled (%(reason)s)", vars);
    else text = _("%(name)s: not sent: %(reason)s", vars);
    li.textContent = text;
    li.className = r.status === "sent" ? "" : (r.status === "failed" ? "error" : "muted");
    return li;
  }

  const form = $("send-form");
  if (form) {
    const all = $("send-all");
    if (all) all.addEventListener("change", function () {
      form.querySelectorAll('input[name="customer"]').forEach(function (box) { box.checked = all.checked; });
    });
    let busy = false;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (busy) return;  // a second click while the first is on its way: the key would refuse it anyway
      const ids = form.dataset.customer ? [form.dataset.customer]
        : Array.prototype.map.call(form.querySelectorAll('input[name="customer"]:checked'), function (b) { return b.value; });
      $("send-error").hidden = true;
      if (!ids.length) {
        $("send-error").textContent = _("Choose at least one customer.");
        $("send-error").hidden = false;
        return;
      }
      busy = true;
      $("send-submit").disabled = true;
      const body = { customer_ids: ids, tone: $("send-tone").value, channel: $("send-channel").value || null,
                     key: form.dataset.key };
      window.Hub.api("POST", form.dataset.url, body).then(function (res) {
        const list = $("send-results");
        list.textContent = "";
        res.results.forEach(function (r) { list.appendChild(line(r)); });
        form.dataset.key = res.next_key;  // this send is done: the next one is a new request
        form.dataset.done = "yes";
        if (form.dataset.reload === "yes") window.setTimeout(function () { window.location.reload(); }, 1200);
      }).catch(function (err) {
        $("send-error").textContent = _("Could not send: %(error)s", { error: err.message });
        $("send-error").hidden = false;
      }).finally(function () { busy = false; $("send-submit").disabled = false; });
    });
  }

  const contact = $("contact-form");
  if (contact) {
    contact.addEventListener("submit", function (ev) {
      ev.preventDefault();
      $("contact-error").hidden = true;
      $("contact-saved").hidden = true;
      const consent = $("contact-consent").value;
      const body = { email: $("contact-email").value, phone: $("contact-phone").value,
                     channel: $("contact-channel").value || null,
                     consent: consent === "yes" ? true : (consent === "no" ? false : null) };
      window.Hub.api("POST", contact.dataset.url, body).then(function (c) {
        $("contact-phone").value = c.phone || "";
        $("contact-email").value = c.email || "";
        $("contact-saved").hidden = false;
        contact.dataset.saved = "yes";
      }).catch(function (err) {
        $("contact-error").textContent = _("Could not save: %(error)s", { error: err.message });
        $("contact-error").hidden = false;
      });
    });
  }

  document.querySelectorAll("button.retry").forEach(function (button) {
    button.addEventListener("click", function () {
      button.disabled = true;
      window.Hub.api("POST", button.dataset.url, {}).then(function (r) {
        const list = $("send-results");
        list.textContent = "";
        list.appendChild(line(r));
        window.setTimeout(function () { window.location.reload(); }, 1200);
      }).catch(function (err) {
        $("send-error").textContent = _("Could not send: %(error)s", { error: err.message });
        $("send-error").hidden = false;
        button.disabled = false;
      });
    });
  });
})();
