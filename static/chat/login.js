/* Admin sign-in (/login): request a one-time code, then enter it.
 *
 * The server's answers carry a translated `error` (shown as it is) and a stable `code`,
 * which decides what the page does: a wrong code lets the admin try again, an expired,
 * used-up or replaced code sends them back to "Send me a code", a rate limit disables
 * the button for the time the server names. */

import { gettext, interpolate } from "./i18n.js";
import "./page.js";
import { refusalText, retryAfter } from "./refusals.js";
import { csrfToken } from "./util.js";

// The code is gone: only a new one helps.
const NEW_CODE_NEEDED = new Set(["code_expired", "code_not_requested", "too_many_tries"]);

const requestBtn = document.getElementById("request-code");
const status = document.getElementById("status");
const errorBox = document.getElementById("error");
const devCode = document.getElementById("dev-code");
const devValue = document.getElementById("dev-code-value");
const otp = document.getElementById("otp");
const verifyBtn = document.getElementById("verify");
const agentInput = document.getElementById("agent");
const approvalBox = document.getElementById("approval");

/* "Approve" in Telegram signs this browser in: ask the server every few seconds while the
 * code lives (the answer is bound to this browser's pending code, and used once). */
const APPROVAL_EVERY_MS = 2500;
const APPROVAL_FOR_MS = 5 * 60 * 1000;
let approvalTimer = null;
function stopWaitingForApproval() {
  clearTimeout(approvalTimer);
  approvalTimer = null;
  approvalBox.hidden = true;
}
function waitForApproval() {
  stopWaitingForApproval();
  const until = Date.now() + APPROVAL_FOR_MS;
  approvalBox.hidden = false;
  const ask = function () {
    if (Date.now() > until) { stopWaitingForApproval(); return; }
    post("/login/approval", {}).then(function (d) {
      if (d.success && d.redirect) { window.location.assign(d.redirect); return; }
      if (d.success || d.code === "network" || d.code === "rate_limited") {
        approvalTimer = setTimeout(ask, APPROVAL_EVERY_MS);
        return;
      }
      stopWaitingForApproval(); // the code is gone (used, replaced, expired)
    });
  };
  approvalTimer = setTimeout(ask, APPROVAL_EVERY_MS);
}

function post(url, body) {
  return fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body || {}),
  }).then(function (r) {
    return r.json().catch(function () {
      return { success: false, code: "server_error", error: gettext("Unexpected answer from the server.") };
    }).then(function (d) { d.status = r.status; return d; });
  }, function () {
    return { success: false, code: "network", error: gettext("No connection to the server. Check your network and try again.") };
  });
}
function showError(text) {
  errorBox.textContent = text;
  errorBox.hidden = !text;
  otp.setAttribute("aria-invalid", text ? "true" : "false");
}
function showStatus(text) { status.textContent = text; status.hidden = !text; }

/* Keep `button` disabled for `seconds`, saying so on it; then give its label back. */
function waitOn(button, seconds) {
  const label = button.textContent;
  let left = seconds;
  const paint = function () { button.textContent = interpolate(gettext("Try again in %(seconds)s s"), { seconds: left }); };
  button.disabled = true;
  paint();
  const timer = setInterval(function () {
    left -= 1;
    if (left > 0) { paint(); return; }
    clearInterval(timer);
    button.textContent = label;
    button.disabled = false;
  }, 1000);
}

function askForNewCode() {
  otp.value = "";
  devCode.hidden = true;
  requestBtn.textContent = gettext("Send a new code");
  requestBtn.focus();
}

requestBtn.addEventListener("click", function () {
  requestBtn.disabled = true;
  showError("");
  const agent = agentInput.value.trim();
  post("/request-otp", agent ? { agent: agent } : {}).then(function (d) {
    requestBtn.disabled = false;
    if (!d.success) {
      showStatus("");
      if (d.code === "agent_unreachable" || d.code === "agent_invalid") agentInput.focus();
      showError(refusalText(d, gettext("The code could not be sent.")));
      if (d.code === "rate_limited") waitOn(requestBtn, retryAfter(d, 60));
      return;
    }
    requestBtn.textContent = gettext("Send a new code");
    showStatus(d.message || gettext("Code sent."));
    if (d.otp) { devValue.textContent = d.otp; devCode.hidden = false; }
    if (d.approvable) waitForApproval(); else stopWaitingForApproval();
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
    showError(refusalText(d, gettext("Sign-in failed.")));
    if (NEW_CODE_NEEDED.has(d.code)) askForNewCode();
    else if (d.code === "rate_limited") { waitOn(verifyBtn, retryAfter(d, 60)); }
    else otp.select();
  });
});
