/* Admin sign-in (/login): request a one-time code, then enter it. */
(function () {
  "use strict";
  const C = window.chatdesk, t = C.t;
  const gettext = window.gettext || function (s) { return s; };
  // The server answers in English; these are its messages, so the catalogue translates them.
  /* eslint-disable no-unused-vars */
  const SERVER_MESSAGES = [
    gettext_noop("Wrong code."),
    gettext_noop("The code has expired. Request a new code."),
    gettext_noop("Too many wrong tries for this code. Request a new code."),
    gettext_noop("No code was requested, or it was already used. Request a new code."),
    gettext_noop("Too many wrong codes from this address; try again later."),
    gettext_noop("Too many codes requested; wait a few minutes and try again."),
    gettext_noop("Enter the 6-digit code."),
    gettext_noop("Could not send the code to Telegram; try again shortly."),
    gettext_noop("Telegram is not configured: development code shown."),
    gettext_noop("OTP Telegram'a gönderildi"),
    gettext_noop("CSRF check failed: reload the page and try again."),
  ];
  function gettext_noop(s) { return s; }

  const requestBtn = document.getElementById("request-code");
  const status = document.getElementById("status");
  const errorBox = document.getElementById("error");
  const devCode = document.getElementById("dev-code");
  const devValue = document.getElementById("dev-code-value");
  const otp = document.getElementById("otp");
  const verifyBtn = document.getElementById("verify");

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": C.csrfToken() },
      body: JSON.stringify(body || {}),
    }).then(function (r) {
      return r.json().catch(function () { return { success: false, error: gettext("Unexpected answer from the server.") }; })
        .then(function (d) { d.status = r.status; return d; });
    }, function () {
      return { success: false, error: gettext("No connection to the server. Check your network and try again.") };
    });
  }
  function showError(text) { errorBox.textContent = text; errorBox.hidden = !text; otp.setAttribute("aria-invalid", text ? "true" : "false"); }
  function showStatus(text) { status.textContent = text; status.hidden = !text; }

  requestBtn.addEventListener("click", function () {
    requestBtn.disabled = true;
    showError("");
    post("/request-otp", {}).then(function (d) {
      requestBtn.disabled = false;
      if (!d.success) { showStatus(""); showError(t(d.error || "")); return; }
      requestBtn.textContent = gettext("Send a new code");
      showStatus(t(d.message || "") || gettext("Code sent."));
      if (d.otp) { devValue.textContent = d.otp; devCode.hidden = false; }
      otp.focus();
    });
  });

  // Disabled in the HTML until this script runs, so an early click is never lost.
  requestBtn.disabled = false;
  verifyBtn.disabled = false;

  otp.addEventListener("input", function () {
    otp.value = otp.value.replace(/\D/g, "").slice(0, 6);
    if (otp.value) showError("");
  });

  document.getElementById("verify-form").addEventListener("submit", function (e) {
    e.preventDefault();
    const code = otp.value.trim();
    if (!/^\d{6}$/.test(code)) { showError(gettext("Enter the 6-digit code.")); otp.focus(); return; }
    verifyBtn.disabled = true;
    post("/verify-otp", { otp: code }).then(function (d) {
      if (d.success) { window.location.assign(d.redirect || "/admin"); return; }
      verifyBtn.disabled = false;
      showError(t(d.error || "") || gettext("Sign-in failed."));
      otp.select();
    });
  });
})();
