/* chatdesk: the one message list both pages show.
 *
 * A message typed here is shown at once as a pending bubble carrying its client_id; the
 * server's ack (or the same message arriving as an event) is reconciled with that bubble
 * by client_id, so nothing is shown twice. Everything a person typed is put on the page
 * with textContent (never innerHTML).
 */

import { gettext } from "./i18n.js";
import { openLightbox } from "./page.js";
import { clock, el, safeUrl, scrollToEnd } from "./util.js";

const STATUS = {
  pending: function () { return gettext("Sending…"); },
  sent: function () { return gettext("Sent"); },
  seen: function () { return gettext("Seen"); },
  failed: function () { return gettext("Not sent"); },
};

/* One bubble. mine: is this message the viewer's own side (right-hand, coloured)? */
export function renderMessage(m, mine) {
  const li = el("li", "msg " + (mine ? "msg-mine" : "msg-theirs"));
  li.dataset.sender = m.sender || "";
  if (m.id) li.dataset.id = m.id;
  if (m.client_id) li.dataset.clientId = m.client_id;
  if (m.via === "telegram") li.classList.add("via-telegram");
  const bubble = el("div", "bubble bubble-" + (m.type || "text"));
  const src = safeUrl(m.file_path);
  if (m.type === "image" && src) {
    const button = el("button", "photo-btn");
    button.type = "button";
    button.setAttribute("aria-label", gettext("Open the photo"));
    const img = el("img", "photo");
    img.src = src;
    img.alt = m.content_text || gettext("Photo");
    img.loading = "lazy";
    button.appendChild(img);
    button.addEventListener("click", function () { openLightbox(src); });
    bubble.appendChild(button);
  } else if (m.type === "audio" && src) {
    const audio = el("audio", "voice");
    audio.controls = true;
    audio.preload = "metadata";
    audio.src = src;
    audio.setAttribute("aria-label", gettext("Voice note"));
    bubble.appendChild(audio);
  }
  if (m.content_text && m.type === "text") bubble.appendChild(el("p", "text", m.content_text));
  else if (m.content_text) bubble.appendChild(el("p", "caption", m.content_text));
  li.appendChild(bubble);
  const meta = el("div", "meta");
  const time = el("time", "", clock(m.created_at));
  if (m.created_at) time.dateTime = m.created_at.replace(" ", "T");
  meta.appendChild(time);
  if (mine) meta.appendChild(el("span", "status"));
  li.appendChild(meta);
  return li;
}

/* The message an outbox entry stands for, until the server has stored it. */
export function pendingMessage(payload, sender) {
  return {
    client_id: payload.client_id,
    sender: sender,
    type: payload.type,
    content_text: payload.text || null,
    file_path: payload.file_url || null,
    created_at: payload._created_at,
  };
}

export class MessageList {
  /* listEl: the <ol>; mySender: "visitor" or "admin" (whose bubbles are "mine");
   * emptyText: the hint shown while there is no message. */
  constructor(listEl, mySender, emptyText) {
    this.el = listEl;
    this.mySender = mySender;
    this.emptyText = emptyText;
  }

  isMine(m) { return m.sender === this.mySender; }

  byId(id) {
    return id ? this.el.querySelector('.msg[data-id="' + CSS.escape(id) + '"]') : null;
  }

  byClientId(clientId) {
    return clientId ? this.el.querySelector('.msg-mine[data-client-id="' + CSS.escape(clientId) + '"]') : null;
  }

  setStatus(li, state, label) {
    const status = li && li.querySelector(".status");
    if (!status) return;
    li.dataset.state = state;
    status.textContent = label || (STATUS[state] ? STATUS[state]() : "");
  }

  /* Add a message unless it is already shown; one of ours that is shown as pending is
   * reconciled instead. Returns the new bubble, or null when nothing was added. */
  add(m, state) {
    if (!m) return null;
    if (m.id && this.byId(m.id)) return null;
    const mine = this.isMine(m);
    if (mine && m.client_id) {
      const existing = this.byClientId(m.client_id);
      if (existing) {
        this.reconcile(existing, m);
        return null;
      }
    }
    const li = renderMessage(m, mine);
    if (mine) this.setStatus(li, state || "sent");
    const empty = this.el.querySelector(".empty-chat");
    if (empty) empty.remove();
    this.el.appendChild(li);
    this.markLast();
    scrollToEnd(this.el, mine);
    return li;
  }

  /* The server stored one of ours: the pending bubble takes its id and time. */
  reconcile(li, message) {
    if (message.id) li.dataset.id = message.id;
    const time = li.querySelector("time");
    if (time && message.created_at) {
      time.textContent = clock(message.created_at);
      time.dateTime = message.created_at.replace(" ", "T");
    }
    if (li.dataset.state !== "seen") this.setStatus(li, "sent");
  }

  /* The ack of an outbox entry: reconcile its bubble, or show the stored message. */
  acked(clientId, message) {
    const li = this.byClientId(clientId);
    if (li && message) this.reconcile(li, message);
    else if (li) this.setStatus(li, "sent");
    else this.add(message, "sent");
  }

  failed(clientId) { this.setStatus(this.byClientId(clientId), "failed"); }

  /* The pending bubble says why it waits (e.g. "Slow down — sending in 5 s"). */
  holding(clientId, label) {
    const li = this.byClientId(clientId);
    if (li && li.dataset.state === "pending") this.setStatus(li, "pending", label);
  }

  /* The other side has read everything so far. */
  seen() {
    const self = this;
    this.el.querySelectorAll('.msg-mine[data-state="sent"]').forEach(function (li) { self.setStatus(li, "seen"); });
  }

  /* History from the server, then whatever still waits in the outbox (unless the server
   * already has it). Returns the client_ids the history contains. */
  show(messages, pending) {
    const self = this;
    this.el.textContent = "";
    const stored = new Set();
    (messages || []).forEach(function (m) {
      if (m.client_id) stored.add(m.client_id);
      self.add(m, "sent");
    });
    (pending || []).forEach(function (p) {
      if (!stored.has(p.client_id)) self.add(pendingMessage(p, self.mySender), "pending");
    });
    this.showEmpty();
    scrollToEnd(this.el, true);
    return stored;
  }

  /* Remove the stored messages; pending ones stay (they will be sent). */
  clearStored() {
    this.el.querySelectorAll(".msg:not([data-state=pending])").forEach(function (li) { li.remove(); });
    this.markLast();
    this.showEmpty();
  }

  /* A placeholder line (loading, could not load) instead of the messages. */
  placeholder(text) {
    this.el.textContent = "";
    this.el.appendChild(el("li", "empty-chat", text));
  }

  showEmpty() {
    if (!this.el.querySelector(".msg") && !this.el.querySelector(".empty-chat")) {
      this.el.appendChild(el("li", "empty-chat", this.emptyText()));
    }
  }

  /* A line between the messages (e.g. a refusal), removed after a while when `transient`. */
  notice(text, kind, transient) {
    const li = el("li", "notice-line" + (kind ? " " + kind : ""), text);
    this.el.appendChild(li);
    scrollToEnd(this.el, true);
    if (transient) setTimeout(function () { li.remove(); }, 8000);
    return li;
  }

  markLast() {
    const mine = this.el.querySelectorAll(".msg-mine");
    mine.forEach(function (li, i) { li.classList.toggle("last-mine", i === mine.length - 1); });
  }
}
