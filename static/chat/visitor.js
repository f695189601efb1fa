/* The visitor chat (/): name, then a conversation with the site's admins.
 *
 * The thread id and the visitor's name are kept (storage.js), so a reload or a closed tab
 * comes back to the same conversation (the server also remembers the visitor's threads
 * in their session). Messages go through the outbox, which resends until the server
 * acknowledges them; each carries a client_id, so none is stored twice.
 */

import "./resume.js"; // first: a link from an email sets the conversation before it is read
import { Availability } from "./availability.js";
import { Composer } from "./composer.js";
import { VisitorContext } from "./context.js";
import { EmailCard } from "./email_card.js";
import { gettext, interpolate } from "./i18n.js";
import { applyEdit } from "./edits.js";
import { MessageList, pendingMessage } from "./messages.js";
import { Outbox } from "./outbox.js";
import { TelegramContinue } from "./telegram_continue.js";
import { announce, limits, showConnection } from "./page.js";
import { NAME_REFUSED, RETRY_LATER, refusalText, retryAfter } from "./refusals.js";
import { connectSocket } from "./socket.js";
import * as sound from "./sound.js";
import * as storage from "./storage.js";
import { newClientId, nowStamp, previewText } from "./util.js";

const KEYS = { name: "chatdesk.name", thread: "chatdesk.thread_id", outbox: "chatdesk.outbox", sound: "chatdesk.sound" };
const HEARTBEAT_MS = 30000;
const TYPING_SHOWN_MS = 8000;

const root = document.getElementById("vchat");
const embedded = root.dataset.embed === "1";
const params = new URLSearchParams(window.location.search);

/* The embedding page's origin, from the launcher (?host=): messages go to it only. */
const hostOrigin = (function () {
  try {
    const origin = new URL(params.get("host") || "").origin;
    return /^https?:/.test(origin) ? origin : null;
  } catch (e) {
    return null;
  }
})();
function tellHost(message) {
  if (embedded && hostOrigin && window.parent !== window) window.parent.postMessage(message, hostOrigin);
}
// Embedded, the chat counts as read only while the launcher shows it (it says so).
let frameOpen = !embedded;
window.addEventListener("message", function (e) {
  if (!embedded || e.source !== window.parent || e.origin !== hostOrigin || !e.data || typeof e.data !== "object") return;
  if (e.data.chatdesk === "opened") { frameOpen = true; markRead(); }
  else if (e.data.chatdesk === "closed") frameOpen = false;
});

function contrastWithWhite(hex) {
  const h = hex.length === 4 ? hex.replace(/[0-9a-f]/gi, "$&$&").slice(1) : hex.slice(1);
  const lin = [0, 2, 4].map(function (i) {
    const c = parseInt(h.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  });
  return 1.05 / (0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2] + 0.05);
}

/* data-color of the launcher themes the chat: only a #rgb or #rrggbb colour that white
 * text can be read on (4.5:1) is taken. */
(function theme() {
  const color = params.get("color") || "";
  if (!/^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i.test(color) || contrastWithWhite(color) < 4.5) return;
  document.documentElement.style.setProperty("--brand", color);
  document.documentElement.style.setProperty("--brand-dark", color);
})();
const welcome = document.getElementById("welcome");
const chat = document.getElementById("chat");
const typingBox = document.getElementById("typing");
const nameInput = document.getElementById("name");
const nameError = document.getElementById("name-error");
const list = new MessageList(document.getElementById("messages"), "visitor", function () {
  return gettext("Say hello: we will answer here.");
});

let name = storage.get(KEYS.name);
let threadId = storage.get(KEYS.thread);
let joined = false, joining = false, joinTimer = null;
// The page the visitor is on, for agents (issue 14): sent with join, updated on navigation.
const pageContext = VisitorContext({
  embedded: embedded,
  hostOrigin: hostOrigin,
  isJoined: function () { return joined && !!threadId && socket.connected; },
  send: function (context) { socket.emit("context", { thread_id: threadId, context: context }); },
});
const outbox = new Outbox(KEYS.outbox, "message_to_admin");
const availability = Availability(
  document.getElementById("availability"), document.getElementById("conn"), document.getElementById("welcome-text"));
availability.load();
const socket = connectSocket(function (state) {
  showConnection(state);
  availability.connection(state);
  if (state !== "online") { joined = false; outbox.setReady(false); }
});
outbox.socket = socket;
const emailCard = EmailCard({
  card: document.getElementById("email-card"),
  transcriptButton: document.getElementById("email-transcript"),
  socket: socket,
  threadId: function () { return threadId; },
  announce: announce,
  notice: function (text, kind) { list.notice(text, kind === "error" ? "error" : "", true); },
});
availability.onChange(emailCard.availability);
// ★ Continue in Telegram (issue 14): shown once there is a conversation and a bot to take it.
const telegramContinue = TelegramContinue({
  button: document.getElementById("continue-telegram"),
  threadId: function () { return threadId; },
  notice: function (text, kind) { list.notice(text, kind === "error" ? "error" : "", true); },
});
socket.on("availability", availability.update);
socket.on("visitor_email", function (d) { if (d && d.thread_id === threadId) emailCard.changed(d.email); });
nameInput.maxLength = limits.nameMaxChars;

function showChat() {
  welcome.hidden = true;
  chat.hidden = false;
  root.classList.add("is-chatting");
}

function showNameStep(error) {
  storage.remove(KEYS.name);
  name = null;
  chat.hidden = true;
  welcome.hidden = false;
  root.classList.remove("is-chatting");
  nameError.textContent = error || "";
  nameInput.focus();
}

function rememberThread(id) {
  threadId = id;
  if (id) storage.set(KEYS.thread, id); else storage.remove(KEYS.thread);
}

function joinLater(fresh, seconds) {
  clearTimeout(joinTimer);
  joinTimer = setTimeout(function () { join(fresh); }, seconds * 1000);
}

function join(fresh) {
  if (!name || joining || !socket.connected) return;
  joining = true;
  clearTimeout(joinTimer);
  const payload = { display_name: name, context: pageContext.forJoin() };
  if (threadId && !fresh) payload.thread_id = threadId;
  socket.timeout(15000).emit("join", payload, function (err, ack) {
    joining = false;
    if (err || !ack) { joinLater(fresh, 2); return; }
    if (!ack.ok) {
      const code = ack.code || "";
      if (NAME_REFUSED.has(code)) {
        showNameStep(refusalText(ack));
      } else if (RETRY_LATER.has(code)) {
        joinLater(fresh, retryAfter(ack, 3));
      } else {
        // e.g. conversation_limit, blocked: say why (until a join succeeds and redraws the
        // list); try again when the server says, in case it lifts. Messages keep waiting.
        list.notice(refusalText(ack), "error", false);
        joinLater(fresh, retryAfter(ack, 60));
      }
      return;
    }
    const changed = ack.thread_id !== threadId;
    rememberThread(ack.thread_id);
    if (changed) outbox.retarget(threadId);
    const stored = list.show(ack.resumed ? ack.messages : [], outbox.pending());
    list.seenUpTo(ack.admin_seen_iso); // "Seen" survives a reload
    // What the server already has was acked before a reload lost the answer: done.
    stored.forEach(function (clientId) { outbox.remove(clientId); });
    joined = true;
    closedNotice = null;
    emailCard.joined(ack);
    pageContext.joined(); // the page the launcher told while the join was on its way
    telegramContinue.joined();
    availability.update(ack.availability);
    socket.emit("heartbeat", { thread_id: threadId });
    if (ack.resumed && (ack.messages || []).some(function (m) { return m.sender === "admin"; })) markRead();
    if (embedded) {
      // The launcher remembers that there is a conversation, and shows its unread replies.
      const readUpTo = ack.visitor_seen_iso ? new Date(ack.visitor_seen_iso).getTime() : 0;
      const count = (ack.resumed ? ack.messages : []).filter(function (m) {
        return m.sender === "admin" && m.created_iso && new Date(m.created_iso).getTime() > readUpTo;
      }).length;
      tellHost({ chatdesk: "joined" });
      tellHost({ chatdesk: "unread", count: count });
    }
    outbox.setReady(true);
  });
}

outbox.onAck = function (payload, message) { list.acked(payload.client_id, message); };
let holdAnnounced = false; // the countdown is read out once, not every second
outbox.onHold = function (payload, label) {
  list.holding(payload.client_id, label);
  if (label && !holdAnnounced) announce(label);
  holdAnnounced = !!label;
};
outbox.onRefused = function (payload, ack) {
  list.failed(payload.client_id);
  list.notice(refusalText(ack, gettext("The message could not be sent.")), "error", true);
};
outbox.onThreadLost = function () {
  // The admins cleared everything, or the session forgot the thread: carry on in a new
  // conversation, transparently (the waiting messages are retargeted on join).
  rememberThread(null);
  join(true);
};

function send(payload) {
  payload.client_id = newClientId();
  payload.thread_id = threadId;
  payload._created_at = nowStamp();
  payload._created_iso = new Date().toISOString();
  list.add(pendingMessage(payload, "visitor"), "pending");
  emailCard.visitorWrote();
  if (!threadId && joined) {
    // The thread was deleted meanwhile: this message opens a new one (retargeted on join).
    outbox.setReady(false);
    outbox.add(payload);
    join(true);
    return;
  }
  outbox.add(payload);
}

Composer({
  root: chat,
  onText: function (text) { send({ type: "text", text: text }); },
  onMedia: function (kind, url, extra) { send(Object.assign({ type: kind, file_url: url }, extra || {})); },
  onTyping: function (typing) {
    if (joined && socket.connected) socket.volatile.emit("typing", { thread_id: threadId, typing: typing });
  },
  onError: function (text) { list.notice(text, "error", true); },
  onStatus: function (text) { announce(text); },
});

document.getElementById("name-form").addEventListener("submit", function (e) {
  e.preventDefault();
  const value = nameInput.value.trim();
  if (!value) { nameError.textContent = gettext("Please tell us your name."); nameInput.focus(); return; }
  nameError.textContent = "";
  name = value.slice(0, limits.nameMaxChars);
  storage.set(KEYS.name, name);
  emailCard.setEmailAtStart(document.getElementById("start-email").value.trim());
  showChat();
  list.showEmpty();
  document.getElementById("text").focus();
  join(false);
});

socket.on("connect", function () { if (name) join(false); });

let typingHide = null;
function setTyping(on) {
  typingBox.hidden = !on;
  clearTimeout(typingHide);
  if (on) typingHide = setTimeout(function () { typingBox.hidden = true; }, TYPING_SHOWN_MS);
}

socket.on("message_from_admin", function (m) {
  if (!m || m.thread_id !== threadId) return;
  setTyping(false);
  emailCard.answered();
  if (list.add(m)) {
    announce(interpolate(gettext("Support: %(text)s"), { text: previewText(m.type, m.content_text) }));
    markRead();
    replyWhileHidden();
    tellHost({ chatdesk: "message" });
  }
});
socket.on("admin_typing", function (d) { if (d && d.thread_id === threadId) setTyping(!!d.typing); });
// Support corrected a reply (issue 15): the bubble shows the new text, marked "edited".
socket.on("message_edited", function (d) { if (d && d.thread_id === threadId) applyEdit(list, d); });
socket.on("admin_seen", function (d) { if (d && d.thread_id === threadId) list.seen(); });

/* Support cleared or deleted the conversation: say so; writing again starts anew. */
let closedNotice = null;
function closedBySupport() {
  list.clearStored();
  if (closedNotice && closedNotice.isConnected) return;
  closedNotice = list.notice(gettext("This conversation was closed by support. Write again to start a new one."), "closed", false);
  announce(closedNotice.textContent);
}
socket.on("thread_cleared", function (d) { if (d && d.thread_id === threadId) closedBySupport(); });
socket.on("thread_deleted", function (d) {
  if (!d || d.thread_id !== threadId) return;
  closedBySupport();
  rememberThread(null);
});

/* The visitor has read the replies: the panel shows it (stored on the thread). */
function markRead() {
  if (joined && socket.connected && threadId && frameOpen && document.visibilityState === "visible") {
    socket.emit("mark_seen", { thread_id: threadId });
  }
}

/* A reply while the tab is hidden: "(1) New reply" in the title, and a sound if wanted. */
const baseTitle = document.title;
let unseenReplies = 0;
function replyWhileHidden() {
  if (document.visibilityState !== "hidden") return;
  unseenReplies++;
  document.title = "(" + unseenReplies + ") " + gettext("New reply") + " · " + baseTitle;
  if (storage.getJSON(KEYS.sound, false)) sound.beep();
}
document.addEventListener("visibilitychange", function () {
  if (document.visibilityState !== "visible") return;
  unseenReplies = 0;
  document.title = baseTitle;
  markRead();
});

setInterval(function () {
  if (joined && socket.connected && threadId) socket.emit("heartbeat", { thread_id: threadId });
}, HEARTBEAT_MS);

const closeBtn = document.getElementById("embed-close");
if (closeBtn) closeBtn.addEventListener("click", function () { tellHost({ chatdesk: "close" }); });
// Escape inside the frame closes it (unless a dialog or the recorder takes it first).
if (embedded) document.addEventListener("keydown", function (e) {
  if (e.key !== "Escape" || e.defaultPrevented || document.querySelector("dialog[open]")) return;
  // Escape in the photo preview or the recorder cancels that first.
  if (e.target && e.target.closest && e.target.closest('[data-role="recorder"], [data-role="preview"]')) return;
  tellHost({ chatdesk: "close" });
});

const soundBtn = document.getElementById("visitor-sound");
function paintSound() { if (soundBtn) soundBtn.setAttribute("aria-pressed", String(!!storage.getJSON(KEYS.sound, false))); }
if (soundBtn) soundBtn.addEventListener("click", function () {
  const on = !storage.getJSON(KEYS.sound, false);
  storage.setJSON(KEYS.sound, on);
  if (on && sound.unlock()) sound.beep();
  paintSound();
});
paintSound();

// The start button is disabled in the HTML until this script runs (no native submit).
document.getElementById("start").disabled = false;
if (name) {
  nameInput.value = name;
  showChat();
} else {
  nameInput.focus();
}
