/* chatdesk: the panel's search box searches every message on the server.
 *
 * GET /api/threads?q= answers the threads whose name or any message has the words
 * (accents and Turkish letters folded), each with the matching message's snippet. Until
 * the answer is in, the list is filtered by what it already shows.
 */

import { el } from "./util.js";

const DEBOUNCE_MS = 250;

export function ThreadSearch(opts) {
  const input = opts.input;
  let query = "";
  let hits = null; // Map thread id -> match ({text, start, end} or null), for `query`
  let timer = null;
  let asked = 0;

  function current() { return input.value.trim(); }

  function run() {
    const q = current();
    query = q;
    hits = null;
    clearTimeout(timer);
    if (!q) { opts.onResults([]); return; }
    const ticket = ++asked;
    timer = setTimeout(function () {
      const url = "/api/threads?limit=100&q=" + encodeURIComponent(q) + (opts.extraParams ? opts.extraParams() : "");
      fetch(url, { credentials: "same-origin" })
        .then(function (r) {
          if (r.status === 401 || r.status === 403) { opts.onSignedOut(); return null; }
          return r.ok ? r.json() : null;
        })
        .then(function (items) {
          if (ticket !== asked || !Array.isArray(items)) return;
          hits = new Map(items.map(function (t) { return [t.id, t.match || null]; }));
          opts.onResults(items);
        })
        .catch(function () { /* offline: the local filter stays */ });
    }, DEBOUNCE_MS);
  }
  input.addEventListener("input", run);

  return {
    active: function () { return !!query; },
    /* Does this thread belong in the list for the current query? */
    matches: function (th) {
      if (!query) return true;
      if (hits) return hits.has(th.id);
      const hay = ((th.display_name || "") + " " + (th.last_message || "")).toLocaleLowerCase();
      return hay.indexOf(query.toLocaleLowerCase()) >= 0;
    },
    /* Show the matching message's snippet, the hit in <mark>; false when there is none. */
    paintSnippet: function (target, id) {
      const match = query && hits ? hits.get(id) : null;
      target.classList.toggle("is-hit", !!(match && typeof match.text === "string"));
      if (!match || typeof match.text !== "string") return false;
      target.textContent = "";
      target.append(match.text.slice(0, match.start));
      target.appendChild(el("mark", "hit", match.text.slice(match.start, match.end)));
      target.append(match.text.slice(match.end));
      return true;
    },
    clear: function () { input.value = ""; run(); },
    refresh: run,
  };
}
