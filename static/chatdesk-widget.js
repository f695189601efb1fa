/* chatdesk embeddable launcher.
 *
 *   <script src="https://chat.example.com/static/chatdesk-widget.js" async></script>
 *
 * Shows a chat bubble in the page corner; clicking it opens the chatdesk visitor chat
 * (from the origin this script was loaded from) in an iframe. The site must be listed
 * in chatdesk's WIDGET_ALLOWED_ORIGINS, or the browser refuses to show the frame.
 * Optional attributes on the script tag: data-position="left", data-color="#4338ca",
 * data-label="Chat with us".
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
  const color = /^#[0-9a-fA-F]{3,8}$/.test(script.getAttribute("data-color") || "") ? script.getAttribute("data-color") : "#4338ca";
  const label = script.getAttribute("data-label") || (/^tr\b/i.test(navigator.language || "") ? "Sohbeti aç" : "Open the chat");
  const closeLabel = /^tr\b/i.test(navigator.language || "") ? "Sohbeti kapat" : "Close the chat";

  // Styles are set from script (allowed by CSP) so the host page needs no stylesheet.
  function css(el, rules) { Object.keys(rules).forEach(function (k) { el.style.setProperty(k, rules[k]); }); }

  const bubble = document.createElement("button");
  bubble.type = "button";
  bubble.id = "chatdesk-launcher";
  bubble.setAttribute("aria-label", label);
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
  badge.setAttribute("aria-hidden", "true");
  css(badge, {
    position: "absolute", top: "2px", right: "2px", width: "14px", height: "14px", "border-radius": "50%",
    background: "#dc2626", border: "2px solid #fff", display: "none",
  });
  bubble.appendChild(badge);

  let frame = null;
  let open = false;

  function layoutFrame() {
    if (!frame) return;
    const small = window.innerWidth < 520;
    css(frame, small
      ? { top: "0", bottom: "0", left: "0", right: "0", width: "100%", height: "100%", "border-radius": "0" }
      : { top: "auto", bottom: "92px", [side]: "20px", [side === "left" ? "right" : "left"]: "auto",
          width: "380px", height: "min(640px, calc(100vh - 120px))", "border-radius": "16px" });
    bubble.style.display = small && open ? "none" : "flex";
  }

  function makeFrame() {
    frame = document.createElement("iframe");
    frame.id = "chatdesk-frame";
    frame.title = label;
    frame.src = origin + "/?embed=1";
    frame.setAttribute("allow", "microphone; autoplay; clipboard-write");
    css(frame, {
      position: "fixed", border: "0", background: "#fff", "z-index": "2147483001",
      "box-shadow": "0 12px 48px rgba(0,0,0,.25)", display: "none",
    });
    document.body.appendChild(frame);
    layoutFrame();
  }

  function setOpen(value) {
    open = value;
    if (!frame) makeFrame();
    frame.style.display = open ? "block" : "none";
    bubble.setAttribute("aria-expanded", String(open));
    bubble.setAttribute("aria-label", open ? closeLabel : label);
    path.setAttribute("d", open ? ICON_CLOSE : ICON_CHAT);
    if (open) { badge.style.display = "none"; frame.focus(); }
    layoutFrame();
    if (!open) bubble.focus();
  }

  bubble.addEventListener("click", function () { setOpen(!open); });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape" && open) setOpen(false); });
  window.addEventListener("resize", layoutFrame);
  window.addEventListener("message", function (e) {
    if (e.origin !== origin || !e.data || typeof e.data !== "object") return;
    if (e.data.chatdesk === "close") setOpen(false);
    if (e.data.chatdesk === "message" && !open) badge.style.display = "block";
  });

  function mount() { document.body.appendChild(bubble); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
