/* chatdesk embeddable launcher.
 *
 *   <script src="https://chat.example.com/static/chatdesk-widget.js" async></script>
 *
 * Shows a chat bubble in the page corner; clicking it opens the chatdesk visitor chat
 * (from the origin this script was loaded from) in an iframe. The site must be listed
 * in chatdesk's WIDGET_ALLOWED_ORIGINS: the launcher asks the server first
 * (/widget/status) and, for a site that is not listed, says so in this page's console
 * and shows nothing (rather than a frame the browser refuses to draw).
 * Optional attributes on the script tag: data-position="left", data-color="#4338ca"
 * (themes the bubble and the chat: header, the visitor's bubbles, buttons),
 * data-label="Chat with us".
 *
 * Messages between this page and the frame are origin-checked both ways: the frame
 * learns this page's origin from its URL and posts only to it; this page accepts only
 * the chat's origin. A visitor with a conversation gets the frame loaded (hidden) on
 * every page of the site, so replies are counted on the bubble ("2 unread replies")
 * across page changes; the count is kept in this site's localStorage.
 */
(function () {
  "use strict";
  if (window.__chatdeskWidget) return;
  window.__chatdeskWidget = true;

  const script = document.currentScript || (function () {
    const all = document.querySelectorAll('script[src*="chatdesk-widget.js"]');
    return all[all.length - 1];
  })();
  if (!script) return;
  const origin = new URL(script.src, window.location.href).origin;
  const side = script.getAttribute("data-position") === "left" ? "left" : "right";
  const wanted = script.getAttribute("data-color") || "";
  const color = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(wanted) ? wanted : "#4338ca";
  if (wanted && color !== wanted) console.warn("chatdesk: data-color must be a colour like #0f766e; using the default.");
  const turkish = /^tr\b/i.test(document.documentElement.lang || navigator.language || "");
  const label = script.getAttribute("data-label") || (turkish ? "Sohbeti aç" : "Open the chat");
  const closeLabel = turkish ? "Sohbeti kapat" : "Close the chat";
  const KEY_UNREAD = "chatdesk.widget.unread";
  const KEY_ACTIVE = "chatdesk.widget.active";

  function stored(key) { try { return window.localStorage.getItem(key); } catch (e) { return null; } }
  function store(key, value) {
    try { if (value === null) window.localStorage.removeItem(key); else window.localStorage.setItem(key, value); } catch (e) { /* private mode */ }
  }

  // Styles are set from script (allowed by CSP) so the host page needs no stylesheet.
  function css(el, rules) { Object.keys(rules).forEach(function (k) { el.style.setProperty(k, rules[k]); }); }

  const bubble = document.createElement("button");
  bubble.type = "button";
  bubble.id = "chatdesk-launcher";
  bubble.setAttribute("aria-expanded", "false");
  bubble.setAttribute("aria-controls", "chatdesk-frame");
  css(bubble, {
    position: "fixed", bottom: "20px", [side]: "20px", width: "60px", height: "60px", "border-radius": "50%",
    border: "0", background: color, color: "#fff", cursor: "pointer", "z-index": "2147483000",
    "box-shadow": "0 8px 24px rgba(0,0,0,.25)", display: "flex", "align-items": "center", "justify-content": "center",
    padding: "0", transition: "transform .15s",
  });
  const ICON_CHAT = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2Z";
  const ICON_CLOSE = "M18.3 5.7 12 12l6.3 6.3-1.4 1.4L10.6 13.4 4.3 19.7 2.9 18.3 9.2 12 2.9 5.7 4.3 4.3l6.3 6.3 6.3-6.3z";
  const svgNS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "28");
  svg.setAttribute("height", "28");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(svgNS, "path");
  path.setAttribute("fill", "currentColor");
  path.setAttribute("d", ICON_CHAT);
  svg.appendChild(path);
  bubble.appendChild(svg);

  const badge = document.createElement("span");
  badge.id = "chatdesk-unread";
  badge.setAttribute("aria-hidden", "true");
  css(badge, {
    position: "absolute", top: "-2px", right: "-2px", "min-width": "22px", height: "22px", padding: "0 6px",
    "border-radius": "11px", background: "#b91c1c", color: "#fff", border: "2px solid #fff", display: "none",
    "font": "700 12px/18px system-ui, sans-serif", "box-sizing": "border-box", "text-align": "center",
  });
  bubble.appendChild(badge);

  let frame = null;
  let open = false;
  let unread = parseInt(stored(KEY_UNREAD) || "0", 10) || 0;

  function unreadLabel(n) {
    if (!n) return label;
    if (turkish) return label + ", " + n + " okunmamış yanıt";
    return label + ", " + n + (n === 1 ? " unread reply" : " unread replies");
  }

  function paint() {
    bubble.setAttribute("aria-expanded", String(open));
    bubble.setAttribute("aria-label", open ? closeLabel : unreadLabel(unread));
    path.setAttribute("d", open ? ICON_CLOSE : ICON_CHAT);
    badge.textContent = unread > 99 ? "99+" : String(unread);
    badge.style.display = unread && !open ? "block" : "none";
  }

  function setUnread(n) {
    unread = Math.max(0, n | 0);
    store(KEY_UNREAD, unread ? String(unread) : null);
    paint();
  }

  function layoutFrame() {
    if (!frame) return;
    const small = window.innerWidth < 520;
    css(frame, small
      ? { top: "0", bottom: "0", left: "0", right: "0", width: "100%", height: "100%", "border-radius": "0" }
      : { top: "auto", bottom: "92px", [side]: "20px", [side === "left" ? "right" : "left"]: "auto",
          width: "380px", height: "min(640px, calc(100vh - 120px))", "border-radius": "16px" });
    bubble.style.display = small && open ? "none" : "flex";
  }

  function tellFrame(message) {
    if (frame && frame.contentWindow) frame.contentWindow.postMessage(message, origin);
  }

  // The page the visitor is on (issue 14): told to the chat frame only (origin-checked
  // there), which sends it to agents once the visitor uses the chat; again on navigation
  // (history changes, hash changes and a new title, checked every second).
  let toldPage = "";
  function tellPage(force) {
    const now = window.location.href + "\n" + document.title;
    if (!frame || (!force && now === toldPage)) return;
    toldPage = now;
    tellFrame({ chatdesk: "page", url: window.location.href, title: document.title, referrer: document.referrer });
  }
  window.addEventListener("popstate", function () { tellPage(false); });
  window.addEventListener("hashchange", function () { tellPage(false); });
  setInterval(function () { tellPage(false); }, 1000);

  function makeFrame() {
    frame = document.createElement("iframe");
    frame.id = "chatdesk-frame";
    frame.title = label;
    const query = new URLSearchParams({ embed: "1", host: window.location.origin });
    if (color !== "#4338ca") query.set("color", color);
    frame.src = origin + "/?" + query.toString();
    frame.setAttribute("allow", "microphone; autoplay; clipboard-write");
    css(frame, {
      position: "fixed", border: "0", background: "#fff", "z-index": "2147483001",
      "box-shadow": "0 12px 48px rgba(0,0,0,.25)", display: "none",
    });
    frame.addEventListener("load", function () {
      tellFrame({ chatdesk: open ? "opened" : "closed" });
      tellPage(true);
    });
    document.body.appendChild(frame);
    layoutFrame();
  }

  function setOpen(value) {
    open = value;
    if (!frame) makeFrame();
    frame.style.display = open ? "block" : "none";
    if (open) { setUnread(0); frame.focus(); } else paint();
    tellFrame({ chatdesk: open ? "opened" : "closed" });
    layoutFrame();
    if (!open) bubble.focus();
  }

  bubble.addEventListener("click", function () { setOpen(!open); });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape" && open) setOpen(false); });
  window.addEventListener("resize", layoutFrame);
  window.addEventListener("message", function (e) {
    if (e.origin !== origin || !frame || e.source !== frame.contentWindow || !e.data || typeof e.data !== "object") return;
    const kind = e.data.chatdesk;
    if (kind === "close") setOpen(false);
    else if (kind === "message" && !open) setUnread(unread + 1);
    else if (kind === "unread" && !open && typeof e.data.count === "number") setUnread(e.data.count);
    else if (kind === "joined") store(KEY_ACTIVE, "1");
    else if (kind === "ended") { store(KEY_ACTIVE, null); }
  });

  function mount() {
    paint();
    document.body.appendChild(bubble);
    // A visitor with a conversation: load the chat now (hidden), so replies are counted.
    if (stored(KEY_ACTIVE)) makeFrame();
  }

  // Only a listed site may frame the chat: ask first, and say so clearly when not.
  fetch(origin + "/widget/status", { credentials: "omit" })
    .then(function (r) { return r.ok ? r.json() : { allowed: true }; })
    .catch(function () { return { allowed: true }; }) // chat down: the bubble still shows
    .then(function (status) {
      if (!status.allowed) {
        console.warn("chatdesk: this site (" + window.location.origin + ") may not embed the chat from " + origin +
          ". Add it to WIDGET_ALLOWED_ORIGINS on the chat server.");
        return;
      }
      if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
    });
})();
