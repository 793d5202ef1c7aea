// Login screen: pick a tile; owners type a password, everyone else uses the PIN pad.
(function () {
  "use strict";
  const form = document.getElementById("login-form");
  if (!form) return;
  const pin = document.getElementById("pin");
  const pinBlock = document.getElementById("pin-block");
  const pwBlock = document.getElementById("password-block");
  const password = document.getElementById("password");
  function update() {
    const chosen = form.querySelector("input[name=user_id]:checked");
    const owner = chosen && chosen.dataset.role === "owner";
    pwBlock.hidden = !owner;
    pinBlock.hidden = !!owner;
    if (owner) { pin.value = ""; password.focus(); } else if (chosen) { password.value = ""; pin.focus(); }
  }
  form.addEventListener("change", update);
  form.querySelectorAll(".key").forEach(function (k) {
    k.addEventListener("click", function () {
      const key = k.dataset.key;
      if (key === "⌫") pin.value = pin.value.slice(0, -1);
      else if (key === "OK") form.requestSubmit();
      else if (pin.value.length < 8) pin.value += key;
    });
  });
  update();
})();
