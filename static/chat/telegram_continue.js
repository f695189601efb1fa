/* ★ Continue in Telegram (issue 14): a header button on the visitor page, shown once the
 * visitor has a conversation and the desk's bot can take it (GET /api/telegram/continue).
 * A press asks for a single-use start link for this thread (POST) and opens
 * t.me/<bot>?start=<token>; the window is opened during the press (popup blockers allow
 * only that) and pointed at the link when it arrives. */

import { gettext } from "./i18n.js";
import { refusalText } from "./refusals.js";
import { csrfToken } from "./util.js";

export function TelegramContinue(opts) {
  const button = opts.button;
  let available = null; // unknown until asked once

  function ask() {
    if (available !== null) return Promise.resolve(available);
    return fetch("/api/telegram/continue", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { available: false }; })
      .then(function (d) { available = !!(d && d.available); return available; })
      .catch(function () { return false; });
  }

  function joined() {
    if (!button) return;
    ask().then(function (yes) { button.hidden = !yes || !opts.threadId(); });
  }

  function press() {
    const id = opts.threadId();
    if (!id) return;
    const win = window.open("", "_blank");
    fetch("/api/telegram/continue", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ thread_id: id }),
    })
      .then(function (r) { return r.json().then(function (d) { return { ok: r.ok, body: d }; }); })
      .then(function (answer) {
        if (!answer.ok || !answer.body.url) throw answer.body;
        if (win) { win.opener = null; win.location.href = answer.body.url; }
        else window.location.href = answer.body.url;
        opts.notice(gettext("Press Start in Telegram to continue there. Replies will come to both."));
      })
      .catch(function (body) {
        if (win) win.close();
        opts.notice(refusalText(body && body.code ? body : null, gettext("Telegram is not available right now.")), "error");
      });
  }

  if (button) button.addEventListener("click", press);
  return { joined: joined };
}
