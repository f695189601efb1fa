/* The visitor page's line under the title: can anyone answer now? ("Usually replies in a
 * few minutes" / "We're away — we'll reply by email"), from the join ack and the live
 * `availability` event. The connection state is shown apart, only while not connected. */

import { gettext, interpolate, ngettext } from "./i18n.js";

export function replyTimeText(seconds) {
  if (typeof seconds !== "number" || !Number.isFinite(seconds)) return gettext("Usually replies in a few minutes");
  if (seconds < 60) return gettext("Usually replies in under a minute");
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) {
    return interpolate(ngettext("Usually replies in about %(n)s minute", "Usually replies in about %(n)s minutes", minutes), { n: minutes });
  }
  const hours = Math.round(minutes / 60);
  return interpolate(ngettext("Usually replies in about %(n)s hour", "Usually replies in about %(n)s hours", hours), { n: hours });
}

export function Availability(line, connectionLine, welcomeText) {
  let state = null;
  const listeners = [];

  function draw() {
    if (!line) return;
    if (!state) { line.hidden = true; return; }
    line.hidden = false;
    line.dataset.available = state.available ? "1" : "0";
    line.textContent = state.available
      ? replyTimeText(state.median_first_response_seconds)
      : gettext("We're away — we'll reply by email");
    // The welcome card says the same, so nobody is promised a quick answer that won't come.
    if (welcomeText) {
      welcomeText.textContent = state.available
        ? gettext("Ask us anything.") + " " + replyTimeText(state.median_first_response_seconds) + "."
        : gettext("We're away right now. Write to us and leave your email: we'll reply there.");
    }
  }

  /* Before the visitor joins: the same answer over HTTP. */
  function load() {
    fetch("/api/availability", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && state === null) api.update(data); })
      .catch(function () { /* the join ack tells it anyway */ });
  }

  const api = {
    load: load,
    update: function (next) {
      if (!next || typeof next.available !== "boolean") return;
      state = next;
      draw();
      listeners.forEach(function (fn) { fn(state); });
    },
    connection: function (connState) {
      if (connectionLine) connectionLine.hidden = connState === "online";
    },
    onChange: function (fn) { listeners.push(fn); },
    get available() { return state ? state.available : null; },
  };
  return api;
}
