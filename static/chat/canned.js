/* chatdesk panel: canned replies (issue 13). Typing "/" at the start of a reply lists the
 * saved answers whose shortcut matches what follows (↑/↓ to pick, Enter or Tab to insert,
 * Escape to close); the panel's language comes first. "Canned replies" in the side bar
 * opens a small dialog to add, edit and delete them (GET/POST /api/canned…).
 *
 * opts: {input: the composer's textarea, toast(text), onSignedOut()}
 */

import { gettext, interpolate } from "./i18n.js";
import { SIGNED_OUT, refusalText } from "./refusals.js";
import { csrfToken, el } from "./util.js";

const MAX_SHOWN = 8;

export function CannedReplies(opts) {
  const input = opts.input;
  const suggest = document.getElementById("canned-suggest");
  const dialog = document.getElementById("canned-dialog");
  const list = document.getElementById("canned-list");
  const form = document.getElementById("canned-form");
  const formTitle = document.getElementById("canned-form-title");
  const shortcutInput = document.getElementById("canned-shortcut");
  const languageInput = document.getElementById("canned-language");
  const textInput = document.getElementById("canned-text");
  const errorBox = document.getElementById("canned-error");
  const cancelEdit = document.getElementById("canned-cancel");
  const lang = (document.documentElement.lang || "en").slice(0, 2);
  let replies = [];
  let loaded = null;
  let shown = [];
  let active = 0;
  let editing = null;

  function load() {
    loaded = fetch("/api/canned", { credentials: "same-origin" })
      .then(function (r) {
        if (r.status === 401 || r.status === 403) { opts.onSignedOut(); return []; }
        return r.ok ? r.json() : [];
      })
      .then(function (items) { replies = Array.isArray(items) ? items : []; renderList(); })
      .catch(function () { loaded = null; });
    return loaded;
  }

  // --- Suggestions while typing ---------------------------------------------------------------
  function matches(prefix) {
    const found = replies.filter(function (r) { return r.shortcut.indexOf(prefix) === 0; });
    found.sort(function (a, b) {
      if (a.shortcut !== b.shortcut) return a.shortcut < b.shortcut ? -1 : 1;
      return (a.language === lang ? 0 : 1) - (b.language === lang ? 0 : 1);
    });
    return found.slice(0, MAX_SHOWN);
  }
  function close() {
    shown = [];
    suggest.hidden = true;
    suggest.textContent = "";
    input.removeAttribute("aria-activedescendant");
  }
  function paintSuggestions() {
    suggest.textContent = "";
    shown.forEach(function (r, i) {
      const li = el("li", "canned-option");
      li.id = "canned-option-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", String(i === active));
      li.append(el("span", "canned-key", "/" + r.shortcut), el("span", "canned-lang", r.language.toUpperCase()),
        el("span", "canned-preview", r.text));
      li.addEventListener("mousedown", function (e) { e.preventDefault(); insert(r); });
      suggest.appendChild(li);
    });
    suggest.hidden = !shown.length;
    // (No aria-expanded: a textarea is a textbox, which does not take it; axe: critical.)
    if (shown.length) input.setAttribute("aria-activedescendant", "canned-option-" + active);
  }
  function update() {
    const m = /^\/([a-z0-9_-]*)$/i.exec(input.value);
    if (!m) { close(); return; }
    const show = function () {
      shown = matches(m[1].toLowerCase());
      active = 0;
      paintSuggestions();
    };
    if (!loaded) load().then(show); else show();
  }
  function insert(reply) {
    input.value = reply.text;
    close();
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }
  input.setAttribute("aria-controls", "canned-suggest");
  input.setAttribute("aria-autocomplete", "list");
  input.addEventListener("input", update);
  input.addEventListener("blur", function () { setTimeout(close, 100); });
  // Capture on the form: runs before the composer's own Enter-sends handler on the textarea.
  input.form.addEventListener("keydown", function (e) {
    if (e.target !== input || suggest.hidden || !shown.length) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      active = (active + (e.key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length;
      paintSuggestions();
    } else if ((e.key === "Enter" && !e.shiftKey) || e.key === "Tab") {
      insert(shown[active]);
    } else if (e.key === "Escape") {
      close();
    } else return;
    e.preventDefault();
    e.stopPropagation();
  }, true);

  // --- The dialog: list, add, edit, delete --------------------------------------------------------
  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    }).then(function (r) {
      return r.json().catch(function () { return { success: false, code: "server_error" }; });
    }, function () {
      return { success: false, code: "network", error: gettext("No connection to the server. Check your network and try again.") };
    }).then(function (d) {
      if (!d.success && SIGNED_OUT.has(d.code)) opts.onSignedOut();
      return d;
    });
  }
  function renderList() {
    list.textContent = "";
    if (!replies.length) { list.appendChild(el("li", "canned-empty", gettext("No canned replies yet."))); return; }
    replies.forEach(function (r) {
      const li = el("li", "canned-item");
      const head = el("div", "canned-item-head");
      head.append(el("span", "canned-key", "/" + r.shortcut), el("span", "canned-lang", r.language.toUpperCase()));
      const edit = el("button", "btn ghost small", gettext("Edit"));
      edit.type = "button";
      edit.setAttribute("aria-label", interpolate(gettext("Edit /%(shortcut)s"), { shortcut: r.shortcut }));
      edit.addEventListener("click", function () { startEdit(r); });
      const del = el("button", "btn danger-ghost small", gettext("Delete"));
      del.type = "button";
      del.setAttribute("aria-label", interpolate(gettext("Delete /%(shortcut)s"), { shortcut: r.shortcut }));
      del.addEventListener("click", function () {
        post("/api/canned/" + r.id + "/delete").then(function (d) {
          if (!d.success) { opts.toast(refusalText(d)); return; }
          if (editing === r.id) resetForm();
          load();
        });
      });
      head.append(edit, del);
      li.append(head, el("p", "canned-text", r.text));
      list.appendChild(li);
    });
  }
  function resetForm() {
    editing = null;
    form.reset();
    languageInput.value = lang === "tr" ? "tr" : "en";
    formTitle.textContent = gettext("New canned reply");
    cancelEdit.hidden = true;
    errorBox.textContent = "";
  }
  function startEdit(r) {
    editing = r.id;
    shortcutInput.value = r.shortcut;
    languageInput.value = r.language;
    textInput.value = r.text;
    formTitle.textContent = interpolate(gettext("Edit /%(shortcut)s"), { shortcut: r.shortcut });
    cancelEdit.hidden = false;
    errorBox.textContent = "";
    shortcutInput.focus();
  }
  cancelEdit.addEventListener("click", resetForm);
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    const body = { shortcut: shortcutInput.value.trim().replace(/^\//, "").toLowerCase(), language: languageInput.value, text: textInput.value };
    const url = editing ? "/api/canned/" + editing : "/api/canned";
    post(url, body).then(function (d) {
      if (!d.success) { errorBox.textContent = refusalText(d); return; }
      resetForm();
      load();
    });
  });
  document.getElementById("canned-manage").addEventListener("click", function () {
    resetForm();
    load();
    dialog.showModal();
    shortcutInput.focus();
  });

  resetForm();
  return { reload: load };
}
