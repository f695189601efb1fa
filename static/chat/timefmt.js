/* chatdesk: times in the reader's own clock.
 *
 * Payloads carry an ISO 8601 instant with its offset (`created_iso`, `last_message_iso`…)
 * beside the contract's server-zone strings; these helpers show it in the browser's zone
 * and language with Intl.DateTimeFormat: "14:05" in a bubble, "Today" / "Yesterday" / a
 * date between days, and the full date and time on hover.
 */

import { gettext } from "./i18n.js";

const LANG = document.documentElement.lang || undefined;
const CLOCK = new Intl.DateTimeFormat(LANG, { hour: "2-digit", minute: "2-digit" });
const FULL = new Intl.DateTimeFormat(LANG, { dateStyle: "full", timeStyle: "short" });
const DAY = new Intl.DateTimeFormat(LANG, { weekday: "long", day: "numeric", month: "long" });
const DAY_YEAR = new Intl.DateTimeFormat(LANG, { day: "numeric", month: "long", year: "numeric" });
const FULL_DAY = new Intl.DateTimeFormat(LANG, { dateStyle: "full" });
const SHORT_DAY = new Intl.DateTimeFormat(LANG, { day: "numeric", month: "short" });

/* The instant of an ISO string, or of the contract's "YYYY-MM-DD HH:MM:SS" (read as this
 * browser's clock: only pending bubbles, written here, have no ISO instant). */
export function parseWhen(iso, stamp) {
  if (typeof iso === "string" && iso) {
    const d = new Date(iso);
    if (!isNaN(d.getTime())) return d;
  }
  if (typeof stamp === "string" && stamp.length >= 16) {
    const d = new Date(stamp.replace(" ", "T"));
    if (!isNaN(d.getTime())) return d;
  }
  return null;
}

export function whenOf(m) { return m ? parseWhen(m.created_iso, m.created_at) : null; }

export function clockText(d) { return d ? CLOCK.format(d) : ""; }
export function fullText(d) { return d ? FULL.format(d) : ""; }
export function fullDay(d) { return d ? FULL_DAY.format(d) : ""; }

/* This browser's calendar day of an instant, e.g. "2026-11-29". */
export function dayKey(d) {
  if (!d) return "";
  return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
}

function daysAgo(d, now) {
  const a = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  const b = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  return Math.round((b - a) / 86400000);
}

/* "Today", "Yesterday", a weekday and date this year, else a date with its year. */
export function dayLabel(d, now) {
  now = now || new Date();
  const ago = daysAgo(d, now);
  if (ago === 0) return gettext("Today");
  if (ago === 1) return gettext("Yesterday");
  return d.getFullYear() === now.getFullYear() ? DAY.format(d) : DAY_YEAR.format(d);
}

/* The thread list's time: the clock today, "Yesterday", else a short date. */
export function shortWhen(d, now) {
  if (!d) return "";
  now = now || new Date();
  const ago = daysAgo(d, now);
  if (ago === 0) return CLOCK.format(d);
  if (ago === 1) return gettext("Yesterday");
  return SHORT_DAY.format(d);
}

/* A <time> element's text, machine-readable instant and hover title, from a message. */
export function paintTime(timeEl, m) {
  const d = whenOf(m);
  timeEl.textContent = clockText(d);
  if (d) {
    timeEl.dateTime = d.toISOString();
    timeEl.title = fullText(d);
  }
  return d;
}
