/* chatdesk: small helpers without side effects (formatting, ids, elements). */

import { gettext } from "./i18n.js";

export function csrfToken() {
  const m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

export function newClientId() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
  const bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  return Array.from(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
}

function pad(n) { return String(n).padStart(2, "0"); }

// "YYYY-MM-DD HH:MM:SS" in the server's time zone: show it as the server wrote it.
export function clock(stamp) {
  return typeof stamp === "string" && stamp.length >= 16 ? stamp.slice(11, 16) : "";
}

export function shortWhen(stamp) {
  if (typeof stamp !== "string" || stamp.length < 16) return "";
  const d = new Date();
  const today = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  return stamp.slice(0, 10) === today ? stamp.slice(11, 16) : stamp.slice(8, 10) + "." + stamp.slice(5, 7);
}

export function nowStamp() {
  const d = new Date();
  return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
    pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
}

// Only our own uploads (a path on this site) or https URLs (Cloudinary) become src.
export function safeUrl(url) {
  if (typeof url !== "string") return null;
  if (/^\/(?!\/)/.test(url)) return url;
  if (/^https:\/\//i.test(url)) return url;
  return null;
}

/* An element whose text is set with textContent: nothing a person typed becomes HTML. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

export function previewText(type, text) {
  if (type === "image") return "📷 " + (text || gettext("Photo"));
  if (type === "audio") return "🎤 " + (text || gettext("Voice note"));
  return text || "";
}

export function scrollToEnd(list, force) {
  const near = list.scrollHeight - list.scrollTop - list.clientHeight < 160;
  if (force || near) list.scrollTop = list.scrollHeight;
}
