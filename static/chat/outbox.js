/* chatdesk: messages waiting for the server's acknowledgement.
 *
 * Every message is kept (storage.js: localStorage, or memory where the browser refuses
 * storage) until the server acknowledged it, and emitted in order while the socket is
 * ready; a resend carries the same client_id, so the server stores it once. A refusal is
 * handled by its code: a short wait and the same message again (rate_limited, with the
 * server's retry_after; temporarily_unavailable; server_error), a stop until the page
 * fixes what is missing (the thread or the sign-in), or a final "not sent".
 */

import { gettext, interpolate } from "./i18n.js";
import { RETRY_LATER, SIGNED_OUT, THREAD_LOST, retryAfter } from "./refusals.js";
import * as storage from "./storage.js";

const ACK_TIMEOUT_MS = 15000;
const NO_ANSWER_RETRY_MS = 3000;
const RETRY_LATER_SECONDS = 5;

export class Outbox {
  constructor(key, eventName) {
    this.key = key;
    this.eventName = eventName;
    this.sending = false;
    this.ready = false; // the page says when the socket may carry messages (after join)
    this.socket = null;
    this.timer = null;
    this.countdown = null;
    // Callbacks the page sets:
    this.onAck = function () {}; // (payload, storedMessage, duplicate)
    this.onRefused = function () {}; // (payload, answer): dropped, shown as not sent
    this.onThreadLost = function () {}; // (payload, answer): queue stopped until retarget + ready
    this.onSignedOut = function () {}; // (payload, answer): queue stopped, entry kept
    this.onHold = function () {}; // (payload, label or ""): waiting before a retry
  }

  items() {
    const items = storage.getJSON(this.key, []);
    return Array.isArray(items) ? items : [];
  }

  save(items) { storage.setJSON(this.key, items); }

  add(payload) {
    const items = this.items();
    items.push(payload);
    this.save(items);
    this.flush();
  }

  remove(clientId) {
    this.save(this.items().filter(function (p) { return p.client_id !== clientId; }));
  }

  /* Entries still waiting for `threadId` (or all of them). */
  pending(threadId) {
    return this.items().filter(function (p) { return !threadId || p.thread_id === threadId; });
  }

  retarget(threadId) {
    this.save(this.items().map(function (p) { return Object.assign({}, p, { thread_id: threadId }); }));
  }

  /* The socket is ready (or not) to carry messages; on ready, waiting entries go out. */
  setReady(ready) {
    this.ready = ready;
    if (ready) this.flush();
  }

  retryIn(ms) {
    const self = this;
    clearTimeout(self.timer);
    self.timer = setTimeout(function () { self.timer = null; self.flush(); }, ms);
  }

  /* Wait `seconds`, telling the page each second ("Slow down — sending in N s"). */
  holdFor(payload, seconds) {
    const self = this;
    let left = seconds;
    clearInterval(self.countdown);
    const tell = function () {
      self.onHold(payload, interpolate(gettext("Slow down — sending in %(seconds)s s"), { seconds: left }));
    };
    tell();
    self.countdown = setInterval(function () {
      left -= 1;
      if (left > 0) { tell(); return; }
      clearInterval(self.countdown);
      self.countdown = null;
      self.onHold(payload, "");
      self.flush();
    }, 1000);
  }

  flush() {
    const self = this;
    if (self.sending || self.timer || self.countdown || !self.ready) return;
    if (!self.socket || !self.socket.connected) return;
    const items = self.items();
    if (!items.length) return;
    const payload = items[0];
    self.sending = true;
    // Keys starting with "_" are local bookkeeping (e.g. when it was typed), not sent.
    const wire = {};
    Object.keys(payload).forEach(function (k) { if (k.charAt(0) !== "_") wire[k] = payload[k]; });
    self.socket.timeout(ACK_TIMEOUT_MS).emit(self.eventName, wire, function (err, ack) {
      self.sending = false;
      if (err || !ack) {
        // No answer: keep it and try again (the same client_id is stored only once).
        self.retryIn(NO_ANSWER_RETRY_MS);
        return;
      }
      if (ack.ok) {
        self.remove(payload.client_id);
        self.onAck(payload, ack.message, !!ack.duplicate);
        self.flush();
        return;
      }
      const code = ack.code || "";
      if (code === "rate_limited") {
        self.holdFor(payload, retryAfter(ack, RETRY_LATER_SECONDS));
      } else if (RETRY_LATER.has(code)) {
        self.retryIn(retryAfter(ack, RETRY_LATER_SECONDS) * 1000);
      } else if (THREAD_LOST.has(code)) {
        self.ready = false;
        self.onThreadLost(payload, ack);
      } else if (SIGNED_OUT.has(code)) {
        self.ready = false;
        self.onSignedOut(payload, ack);
      } else {
        self.remove(payload.client_id);
        self.onRefused(payload, ack);
        self.flush();
      }
    });
  }
}
