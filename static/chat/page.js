/* chatdesk: what every page does once (language switch, phone viewport, lightbox), the
 * limits the server passes in data- attributes of <body>, and the small shared notices
 * (connection state, toast, screen-reader announcements). */

import { gettext } from "./i18n.js";
import { el } from "./util.js";

function intData(name, fallback) {
  const value = parseInt(document.body.dataset[name], 10);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/* From settings, through chatdesk/context_processors.py; the fallbacks are the defaults. */
export const limits = Object.freeze({
  messageMaxChars: intData("messageMaxChars", 4000),
  nameMaxChars: intData("nameMaxChars", 80),
  uploadMaxBytes: intData("uploadMaxBytes", 16 * 1024 * 1024),
  onlineWindowMs: intData("onlineWindowSeconds", 60) * 1000,
});

// The language switch submits on change (no inline handlers: the CSP forbids them).
document.addEventListener("change", function (e) {
  if (e.target && e.target.matches && e.target.matches("select[data-autosubmit]")) e.target.form.submit();
});

// Phones: keep the composer above the on-screen keyboard.
(function trackViewport() {
  const vv = window.visualViewport;
  const set = function () {
    const h = vv ? vv.height : window.innerHeight;
    document.documentElement.style.setProperty("--app-height", h + "px");
  };
  set();
  if (vv) { vv.addEventListener("resize", set); vv.addEventListener("scroll", set); }
  window.addEventListener("resize", set);
})();

// --- Lightbox ----------------------------------------------------------------------------
export function openLightbox(src) {
  const dialog = document.getElementById("lightbox");
  const img = document.getElementById("lightbox-img");
  if (!dialog || !img) return;
  img.src = src;
  if (typeof dialog.showModal === "function") dialog.showModal();
}
(function () {
  const dialog = document.getElementById("lightbox");
  if (dialog) dialog.addEventListener("click", function (e) { if (e.target === dialog) dialog.close(); });
})();

// --- Notices -------------------------------------------------------------------------------
export function announce(text) {
  const live = document.getElementById("live");
  if (!live || !text) return;
  live.appendChild(el("p", "", text));
  while (live.childNodes.length > 5) live.removeChild(live.firstChild);
}

// A short visible message (errors, hints) that also reaches screen readers.
let toastTimer = null;
export function toast(text) {
  if (!text) return;
  let box = document.getElementById("toast");
  if (!box) {
    box = el("div", "toast");
    box.id = "toast";
    box.setAttribute("role", "alert");
    document.body.appendChild(box);
  }
  box.textContent = text;
  box.classList.add("is-shown");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(function () { box.classList.remove("is-shown"); }, 6000);
}

export function showConnection(state) {
  const box = document.getElementById("conn");
  const text = document.getElementById("conn-text");
  if (!box || !text) return;
  box.dataset.state = state;
  text.textContent = {
    connecting: gettext("Connecting…"),
    online: gettext("Online"),
    reconnecting: gettext("Reconnecting…"),
    offline: gettext("Offline: messages will be sent when the connection is back"),
  }[state] || state;
}
