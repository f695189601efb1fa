/* chatdesk: corrected replies (issue 15).
 *
 * - markEdited(li, iso): the small "edited" mark beside a bubble's time (its title says
 *   when); messages.js adds it to every message whose payload has edited_iso.
 * - applyEdit(list, payload): a `message_edited` event (from the panel or Telegram) puts
 *   the new text in the bubble, on both pages.
 * - editButtons(list, socket): for messages.js setDecorator, in the panel: "Edit" on the
 *   agent's own replies of the last 48 hours: the text becomes a field; Save sends `edit_message` {message_id,
 *   text}; a refusal is shown beside it by the server's translated text.
 * Text goes on the page with textContent (linkified for text messages), never innerHTML.
 */

import { gettext } from "./i18n.js";
import { appendLinkified } from "./linkify.js";
import { el } from "./util.js";

const EDIT_WINDOW_MS = 48 * 3600 * 1000; // chat/services.py EDIT_WINDOW_HOURS

export function markEdited(li, iso) {
  const meta = li && li.querySelector(".meta");
  if (!meta) return;
  let mark = meta.querySelector(".edited");
  if (!mark) {
    mark = el("span", "edited", gettext("edited"));
    const time = meta.querySelector("time");
    if (time && time.nextSibling) meta.insertBefore(mark, time.nextSibling);
    else meta.appendChild(mark);
  }
  const when = iso ? new Date(iso) : null;
  if (when && !isNaN(when.getTime())) mark.title = gettext("Edited") + " " + when.toLocaleString();
}

function setText(li, text) {
  const bubble = li.querySelector(".bubble");
  if (!bubble) return;
  const type = bubble.classList.contains("bubble-text") ? "text" : "media";
  const old = bubble.querySelector("p.text, p.caption");
  if (old) old.remove();
  if (!text) return;
  const p = type === "text" ? appendLinkified(el("p", "text"), text) : el("p", "caption", text);
  bubble.appendChild(p);
  const img = bubble.querySelector("img.photo");
  if (img) img.alt = text;
}

export function applyEdit(list, payload) {
  if (!payload || !payload.id) return false;
  const li = list.byId(payload.id);
  if (!li) return false;
  const form = li.querySelector(".edit-form");
  if (form) form.remove();
  li.classList.remove("editing");
  setText(li, payload.content_text || "");
  li.dataset.text = payload.content_text || "";
  markEdited(li, payload.edited_iso);
  return true;
}

function ownRecentReply(m, me) {
  if (m.sender !== "admin") return false;
  const author = m.agent ? m.agent.id : null;
  const mine = me ? author === me.id : author === null;
  const created = m.created_iso ? new Date(m.created_iso).getTime() : Date.now();
  return mine && Date.now() - created < EDIT_WINDOW_MS;
}

function openEditor(li, socket, list) {
  if (li.classList.contains("editing") || !li.dataset.id) return;
  li.classList.add("editing");
  const form = el("form", "edit-form");
  const label = el("label", "sr-only", gettext("Edit your reply"));
  const field = el("textarea", "edit-text");
  field.id = "edit-" + li.dataset.id;
  label.htmlFor = field.id;
  field.rows = 2;
  field.value = li.dataset.text || "";
  const save = el("button", "edit-save", gettext("Save"));
  save.type = "submit";
  const cancel = el("button", "edit-cancel", gettext("Cancel"));
  cancel.type = "button";
  const status = el("span", "edit-status");
  status.setAttribute("role", "status");
  form.append(label, field, save, cancel, status);
  li.appendChild(form);
  field.focus();

  function close() { form.remove(); li.classList.remove("editing"); li.querySelector(".edit-btn")?.focus(); }
  cancel.addEventListener("click", close);
  field.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { event.preventDefault(); close(); }
    else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!socket.connected) { status.textContent = gettext("Not connected; try again in a moment."); return; }
    save.disabled = true;
    status.textContent = gettext("Saving…");
    socket.timeout(15000).emit("edit_message", { message_id: li.dataset.id, text: field.value }, function (err, ack) {
      save.disabled = false;
      if (err || !ack) { status.textContent = gettext("Not saved; try again."); return; }
      if (!ack.ok) { status.textContent = ack.error || gettext("Not saved; try again."); return; }
      if (ack.changed) applyEdit(list, ack.message);
      else close();
    });
  });
}

/* The panel: an "Edit" button on the agent's own recent replies (a decorator for
 * messages.js's setDecorator). Who "me" is comes from /api/desk. */
export function editButtons(list, socket) {
  const ready = fetch("/api/desk", { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (d) { return d && d.me ? d.me : null; })
    .catch(function () { return null; });
  return function (li, m) {
    li.dataset.text = m.content_text || "";
    if (m.sender !== "admin") return;
    const button = el("button", "edit-btn", gettext("Edit"));
    button.type = "button";
    button.setAttribute("aria-label", gettext("Edit this reply"));
    button.hidden = true;
    // A reply typed here (not stored yet, no id) is the agent's own.
    ready.then(function (me) { button.hidden = !(!m.id || ownRecentReply(m, me)); });
    button.addEventListener("click", function () { openEditor(li, socket, list); });
    const meta = li.querySelector(".meta");
    if (meta) meta.appendChild(button);
  };
}
