/* The panel's visitor context line (issue 14), under the open conversation's header: the
 * page the visitor is on (a link), their browser and OS, their local time and zone,
 * language, where they came from and how many conversations they had before. From the
 * thread payload's `context`, live through thread_updated with change "context". */

import { gettext, interpolate, ngettext } from "./i18n.js";
import { el } from "./util.js";

function localTime(context) {
  const lang = document.documentElement.lang || undefined;
  const options = { hour: "2-digit", minute: "2-digit" };
  if (context.timezone) {
    try {
      return new Date().toLocaleTimeString(lang, Object.assign({ timeZone: context.timezone }, options));
    } catch (e) { /* an unknown zone: fall back to the offset */ }
  }
  if (typeof context.utc_offset_minutes !== "number") return "";
  const shifted = new Date(Date.now() + context.utc_offset_minutes * 60000);
  return shifted.toLocaleTimeString(lang, Object.assign({ timeZone: "UTC" }, options));
}

export function PanelContext(opts) {
  const box = opts.box;
  let shown = null;

  function item(label, value, cls) {
    const row = el("div", "ctx-item" + (cls ? " " + cls : ""));
    row.appendChild(el("dt", null, label));
    const dd = el("dd");
    if (value instanceof Node) dd.appendChild(value); else dd.textContent = value;
    row.appendChild(dd);
    return row;
  }

  function paint(th) {
    if (!box) return;
    shown = th || null;
    const context = th && th.context;
    box.replaceChildren();
    box.hidden = !context;
    if (!context) return;
    if (context.page_url) {
      const link = el("a", "ctx-page", context.page_title || context.page_url);
      link.href = context.page_url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      link.title = context.page_url;
      box.appendChild(item(gettext("Page"), link, "ctx-wide"));
    }
    const device = [context.browser, context.os].filter(Boolean).join(" · ");
    if (device) box.appendChild(item(gettext("Browser"), device));
    const time = localTime(context);
    if (time) {
      const zone = context.timezone ? " (" + context.timezone + ")" : "";
      box.appendChild(item(gettext("Local time"), time + zone, "ctx-time"));
    }
    if (context.language) box.appendChild(item(gettext("Language"), context.language));
    if (context.referrer) box.appendChild(item(gettext("Came from"), context.referrer, "ctx-wide"));
    const before = context.previous_conversations || 0;
    box.appendChild(item(gettext("Earlier chats"),
      before ? interpolate(ngettext("%(n)s conversation", "%(n)s conversations", before), { n: before }) : gettext("First conversation")));
  }

  opts.socket.on("thread_updated", function (d) {
    if (!d || d.change !== "context") return;
    const th = opts.threads.get(d.thread_id);
    if (!th) return;
    th.context = d.context;
    if (d.thread_id === opts.current()) paint(th);
  });
  // The visitor's clock moves on while the conversation stays open.
  setInterval(function () { if (shown && shown.id === opts.current()) paint(shown); }, 30000);

  return { paint: paint };
}
