/* chatdesk: the one message list both pages show.
 *
 * A message typed here is shown at once as a pending bubble carrying its client_id; the
 * server's ack (or the same message arriving as an event) is reconciled with that bubble
 * by client_id, so nothing is shown twice. Everything a person typed is put on the page
 * with textContent (never innerHTML).
 */

import { addAuthor } from "./agents.js";
import { markEdited } from "./edits.js";
import { gettext } from "./i18n.js";
import { appendLinkified } from "./linkify.js";
import { openLightbox } from "./page.js";
import { Pinner } from "./scroll.js";
import { clockText, dayKey, dayLabel, fullDay, paintTime, whenOf } from "./timefmt.js";
import { el, safeUrl } from "./util.js";

const PHOTO_BOX = 260; // px: a photo fits this square (chatdesk.css .photo)

function formatDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
}

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
    // The box is reserved from the stored size, so the list does not jump when it loads.
    if (m.width > 0 && m.height > 0) {
      const scale = Math.min(1, PHOTO_BOX / m.width, PHOTO_BOX / m.height);
      img.width = Math.max(1, Math.round(m.width * scale));
      img.height = Math.max(1, Math.round(m.height * scale));
    }
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
    // WebM recordings carry no duration: the length the recorder measured is shown.
    if (typeof m.duration === "number" && m.duration > 0) {
      const length = el("span", "voice-length", formatDuration(m.duration));
      length.setAttribute("aria-label", gettext("Length") + " " + formatDuration(m.duration));
      audio.setAttribute("aria-label", gettext("Voice note") + ", " + formatDuration(m.duration));
      bubble.appendChild(length);
    }
  }
  if (m.content_text && m.type === "text") bubble.appendChild(appendLinkified(el("p", "text"), m.content_text));
  else if (m.content_text) bubble.appendChild(el("p", "caption", m.content_text));
  li.appendChild(bubble);
  const meta = el("div", "meta");
  const time = el("time", "");
  // The full date and time: on hover (title), and on a tap for touch screens.
  time.addEventListener("click", function () {
    const full = time.dataset.full === "1";
    time.dataset.full = full ? "" : "1";
    time.textContent = full ? clockText(new Date(time.dateTime)) : time.title;
  });
  const when = paintTime(time, m);
  if (when) li.dataset.day = dayKey(when);
  if (m.created_iso) li.dataset.iso = m.created_iso;
  meta.appendChild(time);
  if (mine) meta.appendChild(el("span", "status"));
  li.appendChild(meta);
  addAuthor(li, m); // who answered (issue 13)
  if (m.edited_iso) markEdited(li, m.edited_iso); // corrected (issue 15)
  if (decorate) decorate(li, m, mine);
  return li;
}

/* A page's own additions to every bubble (the panel's "Edit", edits.js). */
let decorate = null;
export function setDecorator(fn) { decorate = fn; }

/* The message an outbox entry stands for, until the server has stored it. */
export function pendingMessage(payload, sender) {
  return {
    client_id: payload.client_id,
    sender: sender,
    type: payload.type,
    content_text: payload.text || null,
    file_path: payload.file_url || null,
    created_at: payload._created_at,
    created_iso: payload._created_iso || null,
    width: payload.width,
    height: payload.height,
    duration: payload.duration,
  };
}

export class MessageList {
  /* listEl: the <ol>; mySender: "visitor" or "admin" (whose bubbles are "mine");
   * emptyText: the hint shown while there is no message. */
  constructor(listEl, mySender, emptyText) {
    this.el = listEl;
    this.mySender = mySender;
    this.emptyText = emptyText;
    this.pinner = new Pinner(listEl);
    this.whileLoading = null; // bubbles added since placeholder(), until show()
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
    this.place(li);
    this.markLast();
    this.pinner.added(mine);
    if (this.whileLoading) this.whileLoading.push(li);
    return li;
  }

  /* Put a bubble at the end, after its day's separator if it starts a new day. */
  place(li) {
    this.daySeparator(li);
    this.el.appendChild(li);
    this.pinner.watch(li);
  }

  /* The server stored one of ours: the pending bubble takes its id and time. */
  reconcile(li, message) {
    if (message.id) li.dataset.id = message.id;
    const time = li.querySelector("time");
    if (time && (message.created_iso || message.created_at)) paintTime(time, message);
    if (message.created_iso) li.dataset.iso = message.created_iso;
    addAuthor(li, message);
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
    // What arrived while the history was on its way (a reply sent and acked, a visitor's
    // message) is not in it when the server read it first: it stays, after the history.
    const arrived = this.whileLoading || [];
    this.whileLoading = null;
    this.el.textContent = "";
    const stored = new Set();
    (messages || []).forEach(function (m) {
      if (m.client_id) stored.add(m.client_id);
      self.add(m, "sent");
    });
    arrived.forEach(function (li) {
      if (!self.byId(li.dataset.id) && !stored.has(li.dataset.clientId)) self.place(li);
    });
    this.markLast();
    (pending || []).forEach(function (p) {
      if (!stored.has(p.client_id) && !self.byClientId(p.client_id)) {
        self.add(pendingMessage(p, self.mySender), "pending");
      }
    });
    this.showEmpty();
    this.pinner.toEnd();
    return stored;
  }

  /* Remove the stored messages; pending ones stay (they will be sent). */
  clearStored() {
    this.el.querySelectorAll(".msg:not([data-state=pending]), .day-sep").forEach(function (li) { li.remove(); });
    this.markLast();
    this.showEmpty();
  }

  /* A placeholder line (loading, could not load) instead of the messages. */
  placeholder(text) {
    this.el.textContent = "";
    this.el.appendChild(el("li", "empty-chat", text));
    this.whileLoading = [];
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
    this.pinner.toEnd();
    if (transient) setTimeout(function () { li.remove(); }, 8000);
    return li;
  }

  /* "Today", "Yesterday" or a date before the first message of each day (this
   * browser's calendar), with the full date for screen readers and on hover. */
  daySeparator(li) {
    const day = li.dataset.day;
    if (!day) return;
    const msgs = this.el.querySelectorAll(".msg[data-day]");
    const previous = msgs.length ? msgs[msgs.length - 1].dataset.day : null;
    if (previous === day) return;
    const when = whenOf({ created_iso: li.dataset.iso, created_at: null }) || new Date(day + "T12:00:00");
    const sep = el("li", "day-sep");
    sep.dataset.day = day;
    const label = el("span", "", dayLabel(when));
    label.title = fullDay(when);
    sep.appendChild(label);
    this.el.appendChild(sep);
  }

  /* Everything of ours up to `iso` (an ISO instant) was read by the other side. */
  seenUpTo(iso) {
    if (!iso) return;
    const upTo = new Date(iso).getTime();
    const self = this;
    this.el.querySelectorAll('.msg-mine[data-state="sent"]').forEach(function (li) {
      if (li.dataset.iso && new Date(li.dataset.iso).getTime() <= upTo) self.setStatus(li, "seen");
    });
  }

  markLast() {
    const mine = this.el.querySelectorAll(".msg-mine");
    mine.forEach(function (li, i) { li.classList.toggle("last-mine", i === mine.length - 1); });
  }
}
