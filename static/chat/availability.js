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

export function Availability(line, connectionLine) {
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
  }

  return {
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
}
