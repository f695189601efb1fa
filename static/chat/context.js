/* Visitor context (issue 14): the page the visitor is on, their language and time zone,
 * sent with `join` (field `context`) and again (`context` event) when they navigate.
 * Embedded, the launcher (chatdesk-widget.js) tells the frame the host page's URL, title
 * and referrer by postMessage ({chatdesk: "page", ...}), accepted only from the parent
 * window at the host origin; the plain visitor page sends its own. Nothing leaves the
 * browser until the visitor joins the chat (docs/privacy.md). */

const URL_MAX_BYTES = 2048;
const TITLE_MAX = 200;

function cleanUrl(value) {
  if (typeof value !== "string" || !/^https?:\/\//i.test(value)) return "";
  return new TextEncoder().encode(value).length <= URL_MAX_BYTES ? value : "";
}

function cleanTitle(value) {
  return typeof value === "string" ? value.replace(/\s+/g, " ").trim().slice(0, TITLE_MAX) : "";
}

export function VisitorContext(opts) {
  // opts: {embedded, hostOrigin, isJoined(), send(context)}: send on navigation updates.
  let page = opts.embedded
    ? { page_url: "", page_title: "", referrer: "" }
    : { page_url: cleanUrl(window.location.href), page_title: cleanTitle(document.title), referrer: cleanUrl(document.referrer) };

  let lastSent = "";

  function current() {
    let zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
    const context = {
      language: (navigator.language || "").slice(0, 35),
      timezone: zone,
      utc_offset_minutes: -new Date().getTimezoneOffset(),
    };
    // Embedded, the page is known once the launcher said it: nothing blank overwrites it.
    if (page.page_url) {
      context.page_url = page.page_url;
      context.page_title = page.page_title;
      context.referrer = page.referrer;
    }
    return context;
  }

  /* The context for a join (remembered: joined() sends what changed while it was on its way). */
  function forJoin() {
    const context = current();
    lastSent = JSON.stringify(context);
    return context;
  }

  function joined() {
    const context = current();
    if (JSON.stringify(context) === lastSent) return;
    lastSent = JSON.stringify(context);
    opts.send(context);
  }

  if (opts.embedded) {
    window.addEventListener("message", function (e) {
      if (e.source !== window.parent || !opts.hostOrigin || e.origin !== opts.hostOrigin) return;
      const d = e.data;
      if (!d || typeof d !== "object" || d.chatdesk !== "page") return;
      const next = { page_url: cleanUrl(d.url), page_title: cleanTitle(d.title), referrer: cleanUrl(d.referrer) };
      // Only a page of the host's own origin is believed.
      if (next.page_url && new URL(next.page_url).origin !== opts.hostOrigin) return;
      if (next.page_url === page.page_url && next.page_title === page.page_title) return;
      page = next;
      if (opts.isJoined()) joined();
    });
  }

  return { forJoin: forJoin, joined: joined };
}
