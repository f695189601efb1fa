(function () {
  "use strict";
  function csrf() { const m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/); return m ? decodeURIComponent(m[1]) : ""; }
  function post(url, body) { return fetch(url, { method: "POST", headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() }, body: JSON.stringify(body || {}) }).then(function (r) { return r.json(); }); }
  const status = document.getElementById("status");
  document.getElementById("request-code").addEventListener("click", function () {
    post("/request-otp").then(function (d) { status.textContent = d.success ? (d.message + (d.otp ? " " + d.otp : "")) : d.error; });
  });
  document.getElementById("verify-form").addEventListener("submit", function (e) {
    e.preventDefault();
    post("/verify-otp", { otp: document.getElementById("otp").value }).then(function (d) { if (d.success) location.href = d.redirect; else status.textContent = d.error; });
  });
})();
