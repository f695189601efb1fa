/* The admin panel (/admin): every visitor thread, live, and the open conversation.
 *
 * The list comes from /api/threads and is then kept current by Socket.IO events from
 * admin_room. Unread counts are this browser's own bookkeeping (storage.js): the server
 * has no notion of "read by this admin".
 */

import { Peers } from "./agents.js";
import { CannedReplies } from "./canned.js";
import { Composer } from "./composer.js";
import { DeskViews } from "./desk_views.js";
import { gettext, interpolate, ngettext } from "./i18n.js";
import { applyEdit, editButtons } from "./edits.js";
import { MessageList, setDecorator } from "./messages.js";
import { Outbox } from "./outbox.js";
import { PanelContext } from "./panel_context.js";
import { PanelEmail } from "./panel_email.js";
import { ThreadSearch } from "./search.js";
import { parseWhen, shortWhen as localWhen } from "./timefmt.js";
import { announce, limits, showConnection, toast } from "./page.js";
import { RETRY_LATER, SIGNED_OUT, refusalText, retryAfter } from "./refusals.js";
import { connectSocket } from "./socket.js";
import * as sound from "./sound.js";
import * as storage from "./storage.js";
import { csrfToken, el, newClientId, nowStamp, previewText } from "./util.js";

const KEYS = {
  unread: "chatdesk.admin.unread",
  sound: "chatdesk.admin.sound",
  notify: "chatdesk.admin.notify",
  outbox: "chatdesk.admin.outbox",
};
const TYPING_SHOWN_MS = 6000;
const REPAINT_MS = 5000;
const STATUS_EVERY_MS = 10000;

const panel = document.getElementById("panel");
const listEl = document.getElementById("threads");
const listEmpty = document.getElementById("threads-empty");
const filterInput = document.getElementById("filter");
const convEmpty = document.getElementById("conv-empty");
const conv = document.getElementById("conv");
const convName = document.getElementById("conv-name");
const convStatus = document.getElementById("conv-status");
const convAvatar = document.getElementById("conv-avatar");
const typingBox = document.getElementById("typing");
const totalBadge = document.getElementById("total-unread");
const baseTitle = panel.dataset.baseTitle || document.title;
const messages = new MessageList(document.getElementById("messages"), "admin", function () {
  return gettext("No messages in this conversation.");
});

const threads = new Map();
const search = ThreadSearch({
  input: document.getElementById("filter"),
  extraParams: function () { return desk.viewParam(); },
  onResults: function (items) { items.forEach(upsertThread); renderList(); },
  onSignedOut: function () { window.location.assign("/login"); },
});
let unread = storage.getJSON(KEYS.unread, {});
let current = null;
let nextBefore = null;
let loadingList = false;

function toSignIn() { window.location.assign("/login"); }

const outbox = new Outbox(KEYS.outbox, "message_to_visitor");
const socket = connectSocket(function (state) {
  showConnection(state);
  if (state !== "online") outbox.setReady(false);
});
outbox.socket = socket;
// Corrected replies (issue 15): "Edit" on the agent's own, and edits made anywhere shown live.
setDecorator(editButtons(messages, socket));
socket.on("message_edited", function (d) {
  if (!d || d.thread_id !== current || !applyEdit(messages, d)) return;
  // The list's preview shows the newest message: correct it when that one was edited.
  const all = messages.el.querySelectorAll(".msg");
  if (all.length && all[all.length - 1].dataset.id === d.id && threads.has(d.thread_id)) {
    upsertThread({ id: d.thread_id, last_message: d.content_text });
    renderList();
  }
});

function saveUnread() { storage.setJSON(KEYS.unread, unread); }

// --- Helpers ----------------------------------------------------------------------------
function initials(name) {
  const parts = String(name || "?").trim().split(/\s+/).filter(Boolean);
  return ((parts[0] || "?").charAt(0) + (parts.length > 1 ? parts[parts.length - 1].charAt(0) : "")).toUpperCase();
}
function hue(id) { let h = 0; for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) % 360; return h; }
function isOnline(th) { return th.onlineUntil > Date.now(); }
function isTyping(th) { return th.typingUntil > Date.now(); }
function sortKey(th) { return th.last_message_time || th.created_at || ""; }
function seenOnline(th) { th.onlineUntil = Date.now() + limits.onlineWindowMs; }

function updateTitle() {
  let total = 0;
  Object.keys(unread).forEach(function (id) { if (threads.has(id)) total += unread[id] || 0; });
  document.title = total ? "(" + total + ") " + baseTitle : baseTitle;
  totalBadge.textContent = String(total);
  totalBadge.hidden = !total;
  totalBadge.setAttribute("aria-label", interpolate(gettext("%(n)s unread"), { n: total }));
}

// --- The thread list ----------------------------------------------------------------------
function upsertThread(data) {
  let th = threads.get(data.id);
  if (!th) { th = { id: data.id, onlineUntil: 0, typingUntil: 0 }; threads.set(data.id, th); }
  ["display_name", "created_at", "last_activity_at", "last_message", "last_message_time", "last_message_type",
    "created_iso", "last_activity_iso", "last_message_iso", "visitor_seen_iso", "email", "context"].forEach(function (k) {
    if (k in data) th[k] = data[k];
  });
  if (data.online) th.onlineUntil = Math.max(th.onlineUntil, Date.now() + limits.onlineWindowMs);
  desk.absorb(th, data);
  // The agent's unread count, kept on the server (GET /api/threads).
  if (typeof data.unread === "number" && data.id !== current) unread[data.id] = data.unread;
  return th;
}

function buildItem(th) {
  const li = el("li", "thread-item");
  const btn = el("button", "thread");
  btn.type = "button";
  btn.dataset.id = th.id;
  const avatar = el("span", "avatar");
  avatar.setAttribute("aria-hidden", "true");
  const dot = el("span", "online-dot");
  const main = el("span", "t-main");
  const top = el("span", "t-top");
  const nameEl = el("span", "t-name");
  // Online and unread, for screen readers: the button's name is its visible text plus this.
  const state = el("span", "sr-only");
  const time = el("time", "t-time");
  top.append(nameEl, state, time);
  const bottom = el("span", "t-bottom");
  const preview = el("span", "t-preview");
  const badge = el("span", "badge");
  badge.setAttribute("aria-hidden", "true");
  bottom.append(preview, badge);
  main.append(top, bottom);
  btn.append(avatar, dot, main);
  btn.addEventListener("click", function () { openThread(th.id); });
  li.appendChild(btn);
  th.el = { li: li, btn: btn, avatar: avatar, dot: dot, name: nameEl, state: state, time: time, preview: preview, badge: badge };
}

function paintItem(th) {
  if (!th.el) buildItem(th);
  const e = th.el;
  e.avatar.textContent = initials(th.display_name);
  e.avatar.dataset.hue = String(hue(th.id) % 12);
  e.name.textContent = th.display_name || "";
  const when = th.last_message_time ? parseWhen(th.last_message_iso, th.last_message_time) : parseWhen(th.created_iso, th.created_at);
  e.time.textContent = localWhen(when);
  e.time.dateTime = when ? when.toISOString() : "";
  const online = isOnline(th);
  e.dot.classList.toggle("is-online", online);
  e.dot.title = online ? gettext("Online") : gettext("Offline");
  if (isTyping(th)) { e.preview.textContent = gettext("typing…"); e.preview.classList.add("is-typing"); }
  else {
    e.preview.classList.remove("is-typing");
    if (!search.paintSnippet(e.preview, th.id)) {
      e.preview.textContent = th.last_message_time ? previewText(th.last_message_type, th.last_message) : gettext("No messages yet");
    }
  }
  const n = unread[th.id] || 0;
  e.badge.textContent = n ? String(n) : "";
  e.badge.hidden = !n;
  e.btn.classList.toggle("has-unread", !!n);
  e.btn.classList.toggle("is-active", th.id === current);
  if (th.id === current) e.btn.setAttribute("aria-current", "true"); else e.btn.removeAttribute("aria-current");
  e.state.textContent = ["", online ? gettext("online") : "", n ? interpolate(gettext("%(n)s unread"), { n: n }) : ""]
    .filter(function (part, i) { return i === 0 || part; }).join(", ") + " ";
  desk.paintItem(th);
}

function renderList() {
  const needle = filterInput.value.trim().toLocaleLowerCase();
  const ordered = Array.from(threads.values()).sort(function (a, b) {
    const ka = sortKey(a), kb = sortKey(b);
    return ka < kb ? 1 : ka > kb ? -1 : 0;
  });
  let shown = 0;
  let previous = null;
  ordered.forEach(function (th) {
    paintItem(th);
    const visible = search.matches(th) && desk.inView(th);
    th.el.li.hidden = !visible;
    if (visible) shown++;
    // Move an item only when its place changed, so keyboard focus is kept.
    const want = previous ? previous.nextSibling : listEl.firstChild;
    if (want !== th.el.li) listEl.insertBefore(th.el.li, want);
    previous = th.el.li;
  });
  while (previous && previous.nextSibling && !previous.nextSibling.classList.contains("load-more-item")) previous.nextSibling.remove();
  let more = listEl.querySelector(".load-more-item");
  if (nextBefore && !more) {
    more = el("li", "load-more-item");
    const b = el("button", "btn ghost small block", gettext("Load older conversations"));
    b.type = "button";
    b.addEventListener("click", function () { loadThreads(true); });
    more.appendChild(b);
    listEl.appendChild(more);
  } else if (!nextBefore && more) more.remove();
  listEmpty.hidden = shown > 0;
  if (needle && !shown) listEmpty.textContent = gettext("No conversation matches the search.");
  else if (!shown) listEmpty.textContent = desk.emptyText();
  updateTitle();
  paintConvHead();
}

function loadThreads(older) {
  if (loadingList) return Promise.resolve();
  loadingList = true;
  let url = "/api/threads?limit=200" + desk.viewParam();
  if (older && nextBefore) url += "&before=" + encodeURIComponent(nextBefore);
  return fetch(url, { credentials: "same-origin" }).then(function (r) {
    if (r.status === 401 || r.status === 403) { toSignIn(); return; }
    const next = r.headers.get("X-Next-Before");
    return r.json().then(function (items) {
      if (!Array.isArray(items)) return;
      if (!older) {
        const seen = new Set(items.map(function (x) { return x.id; }));
        threads.forEach(function (th, id) {
          if (seen.has(id)) return;
          if (th.el) th.el.li.remove();
          threads.delete(id);
        });
      }
      nextBefore = next;
      items.forEach(upsertThread);
      renderList();
      // Socket events can paint items before this answer; only now are the unread counts whole.
      listEl.removeAttribute("aria-busy");
    });
  }).catch(function () { /* offline: the socket's reconnect reloads */ }).then(function () { loadingList = false; });
}

// --- The open conversation ------------------------------------------------------------------
function paintConvHead() {
  const th = current && threads.get(current);
  if (!th) return;
  convName.textContent = th.display_name || "";
  convAvatar.textContent = initials(th.display_name);
  convAvatar.dataset.hue = String(hue(th.id) % 12);
  let status;
  if (isTyping(th)) status = gettext("typing…");
  else if (isOnline(th)) status = gettext("Online");
  else if (th.last_activity_at) status = interpolate(gettext("Last seen %(when)s"), { when: localWhen(parseWhen(th.last_activity_iso, th.last_activity_at)) });
  else status = gettext("Offline");
  convStatus.textContent = status;
  convStatus.classList.toggle("is-online", isOnline(th));
  panelEmail.paint(th);
  panelContext.paint(th);
  typingBox.hidden = !isTyping(th);
  desk.paintHead();
}

function loadMessages(id) {
  return fetch("/api/messages?thread_id=" + encodeURIComponent(id), { credentials: "same-origin" })
    .then(function (r) {
      if (r.status === 401 || r.status === 403) { toSignIn(); throw new Error(String(r.status)); }
      if (!r.ok) throw new Error(String(r.status));
      return r.json();
    })
    .then(function (items) {
      if (current !== id) return;
      messages.show(items, outbox.pending(id));
      const th = threads.get(id);
      if (th) messages.seenUpTo(th.visitor_seen_iso); // the visitor has read these replies
    })
    .catch(function () { if (current === id) messages.placeholder(gettext("This conversation could not be loaded.")); });
}

function markSeen(id) {
  if (socket.connected) socket.emit("mark_seen", { thread_id: id });
}

// Other agents viewing or replying to the open thread (issue 13).
const peers = new Peers(document.getElementById("agent-peers"));
function tellViewing() {
  peers.open(current);
  if (socket.connected) socket.emit("viewing", { thread_id: current });
}
socket.on("agent_viewing", function (d) { peers.onViewing(d); });
socket.on("agent_typing", function (d) { peers.onTyping(d); });

function openThread(id) {
  if (!threads.has(id)) return;
  current = id;
  tellViewing();
  convEmpty.hidden = true;
  conv.hidden = false;
  panel.classList.add("show-conv");
  messages.placeholder(gettext("Loading…"));
  unread[id] = 0;
  saveUnread();
  renderList();
  loadMessages(id);
  markSeen(id);
  composer.focus();
}

function closeThread() {
  current = null;
  tellViewing();
  conv.hidden = true;
  convEmpty.hidden = false;
  panel.classList.remove("show-conv");
  renderList();
}
document.getElementById("back").addEventListener("click", function () {
  const id = current;
  closeThread();
  const th = threads.get(id);
  if (th && th.el) th.el.btn.focus();
});

// --- Sending ----------------------------------------------------------------------------------
function send(kind, text, url, extra) {
  if (!current) return;
  const payload = Object.assign({ thread_id: current, type: kind, client_id: newClientId(), _created_at: nowStamp() }, extra || {});
  if (text) payload.text = text;
  if (url) payload.file_url = url;
  messages.add({ client_id: payload.client_id, sender: "admin", type: kind, content_text: text || null,
    file_path: url || null, created_at: payload._created_at, created_iso: new Date().toISOString(),
    width: payload.width, height: payload.height, duration: payload.duration }, "pending");
  outbox.add(payload);
}
outbox.onAck = function (payload, message) {
  if (payload.thread_id === current) messages.acked(payload.client_id, message);
  const th = threads.get(payload.thread_id);
  if (th && message) {
    upsertThread({ id: th.id, last_message: message.content_text, last_message_type: message.type, last_message_time: message.created_at, last_message_iso: message.created_iso });
    renderList();
  }
};
outbox.onHold = function (payload, label) {
  if (payload.thread_id === current) messages.holding(payload.client_id, label);
};
outbox.onRefused = function (payload, ack) {
  if (payload.thread_id === current) messages.failed(payload.client_id);
  toast(refusalText(ack, gettext("The message could not be sent.")));
};
outbox.onThreadLost = function (payload, ack) {
  // The thread was deleted meanwhile: drop what was meant for it, carry on with the rest.
  if (payload.thread_id === current) messages.failed(payload.client_id);
  toast(refusalText(ack, gettext("The message could not be sent.")));
  outbox.remove(payload.client_id);
  outbox.setReady(true);
};
// Signed out (elsewhere, or the session expired): the reply waits in the outbox.
outbox.onSignedOut = toSignIn;

const panelEmail = PanelEmail({
  line: document.getElementById("conv-email"),
  socket: socket,
  threads: threads,
  current: function () { return current; },
});
const panelContext = PanelContext({
  box: document.getElementById("visitor-context"),
  socket: socket,
  threads: threads,
  current: function () { return current; },
});
const desk = DeskViews({
  threads: threads,
  current: function () { return current; },
  render: function () { renderList(); },
  reload: function () { loadThreads(false); },
  onRead: function (id) { unread[id] = 0; saveUnread(); renderList(); },
  socket: socket,
  toast: toast,
  announce: announce,
  onSignedOut: toSignIn,
});

const composer = Composer({
  root: conv,
  canSend: function () { return !!current; },
  onText: function (text) { send("text", text, null); },
  onMedia: function (kind, url, extra) { send(kind, null, url, extra); },
  onTyping: function (typing) { if (current && socket.connected) socket.volatile.emit("typing", { thread_id: current, typing: typing }); },
  onError: toast,
  onStatus: announce,
});

CannedReplies({ input: composer.input, toast: toast, onSignedOut: toSignIn });

// --- Clearing ---------------------------------------------------------------------------------
const dialog = document.getElementById("confirm");
function confirmAction(title, text, okLabel) {
  return new Promise(function (resolve) {
    document.getElementById("confirm-title").textContent = title;
    document.getElementById("confirm-text").textContent = text;
    document.getElementById("confirm-ok").textContent = okLabel;
    dialog.returnValue = "cancel";
    dialog.addEventListener("close", function done() {
      dialog.removeEventListener("close", done);
      resolve(dialog.returnValue === "ok");
    });
    dialog.showModal();
    document.getElementById("confirm-cancel").focus();
  });
}
/* POST to the API; resolves to its JSON answer (a refusal is {success: false, code, error}). */
function postJson(url) {
  return fetch(url, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() } })
    .then(function (r) {
      return r.json().catch(function () { return { success: false, code: "server_error" }; });
    }, function () {
      return { success: false, code: "network", error: gettext("No connection to the server. Check your network and try again.") };
    })
    .then(function (d) {
      if (!d.success && SIGNED_OUT.has(d.code)) toSignIn();
      return d;
    });
}
function refusedToast(d) {
  toast(refusalText(d, RETRY_LATER.has(d.code) ? gettext("Please try again in a moment.") : ""));
}
document.getElementById("clear-thread").addEventListener("click", function () {
  const id = current, th = threads.get(id);
  if (!th) return;
  confirmAction(gettext("Clear this conversation?"),
    interpolate(gettext("All messages with %(name)s are deleted for good. The visitor's chat is emptied too."), { name: th.display_name }),
    gettext("Clear conversation")).then(function (ok) {
    if (!ok) return;
    postJson("/api/messages/clear?thread_id=" + encodeURIComponent(id)).then(function (d) {
      if (!d.success) { refusedToast(d); return; }
      clearedLocally(id);
    });
  });
});
document.getElementById("clear-all").addEventListener("click", function () {
  confirmAction(gettext("Delete every conversation?"),
    gettext("Every conversation and message is deleted for good. This cannot be undone."),
    gettext("Delete everything")).then(function (ok) {
    if (!ok) return;
    postJson("/api/messages/clear_all").then(function (d) {
      if (d.success) allCleared(); else refusedToast(d);
    });
  });
});
function clearedLocally(id) {
  const th = threads.get(id);
  if (th) { th.last_message = null; th.last_message_type = null; th.last_message_time = null; }
  unread[id] = 0;
  saveUnread();
  if (id === current) messages.clearStored();
  renderList();
}
function allCleared() {
  threads.forEach(function (th) { if (th.el) th.el.li.remove(); });
  threads.clear();
  unread = {};
  saveUnread();
  closeThread();
}

// --- Alerts: opt-in sound and notification while the tab is hidden ------------------------------
const soundBtn = document.getElementById("sound-toggle");
const notifyBtn = document.getElementById("notify-toggle");
function soundOn() { return !!storage.getJSON(KEYS.sound, false); }
function notifyOn() { return !!storage.getJSON(KEYS.notify, false) && "Notification" in window && Notification.permission === "granted"; }
function paintToggles() {
  soundBtn.setAttribute("aria-pressed", String(soundOn()));
  notifyBtn.setAttribute("aria-pressed", String(notifyOn()));
  if (!("Notification" in window)) notifyBtn.hidden = true;
}
soundBtn.addEventListener("click", function () {
  const on = !soundOn();
  storage.setJSON(KEYS.sound, on);
  if (on && sound.unlock()) sound.beep();
  paintToggles();
});
notifyBtn.addEventListener("click", function () {
  const on = !notifyOn();
  storage.setJSON(KEYS.notify, on);
  if (on && Notification.permission !== "granted") {
    Notification.requestPermission().then(function (p) {
      if (p !== "granted") toast(gettext("Notifications are blocked in this browser's settings."));
      paintToggles();
    });
  }
  paintToggles();
});
function alertNewMessage(m) {
  if (document.visibilityState !== "hidden") return;
  if (soundOn()) sound.beep();
  if (notifyOn()) {
    const th = threads.get(m.thread_id);
    const n = new Notification((th && th.display_name) || gettext("New message"), { body: previewText(m.type, m.content_text), tag: m.thread_id });
    n.onclick = function () { window.focus(); openThread(m.thread_id); n.close(); };
  }
}
paintToggles();

// --- Telegram's state: a banner while forwarding to Telegram is behind -----------------------------
const behindBanner = document.getElementById("tg-behind");
// Telegram refuses the bot for good (issue 15): the reason by its code, until it heals.
function telegramRefusalText(code) {
  switch (code) {
    case "bot_removed": return gettext("Telegram: the bot was removed from the admin chat. Add it back to receive messages there.");
    case "bot_blocked": return gettext("Telegram: the bot was blocked in the admin chat.");
    case "chat_not_found": return gettext("Telegram: the admin chat was not found. Check TELEGRAM_CHAT_ID.");
    case "unauthorized": return gettext("Telegram: the bot token is not accepted. Check TELEGRAM_BOT_TOKEN.");
    default: return gettext("Telegram refuses to deliver messages to the admin chat.");
  }
}
function checkTelegram() {
  if (document.visibilityState === "hidden") return;
  fetch("/api/status", { credentials: "same-origin" })
    .then(function (r) {
      if (r.status === 401 || r.status === 403) { toSignIn(); return null; }
      return r.ok ? r.json() : null;
    })
    .then(function (d) {
      const tg = d && d.telegram;
      if (!tg) return;
      const behind = !!(tg.configured && tg.behind);
      const refused = tg.configured && tg.refusal ? telegramRefusalText(tg.refusal.code) : "";
      const n = Number(tg.pending) || 0;
      behindBanner.hidden = !behind && !refused;
      behindBanner.textContent = refused || (behind ? interpolate(ngettext(
        "Telegram is behind: %(n)s message is waiting to be forwarded.",
        "Telegram is behind: %(n)s messages are waiting to be forwarded.", n), { n: n }) : "");
    })
    .catch(function () { /* offline: the next check tells */ });
}
setInterval(checkTelegram, STATUS_EVERY_MS);

// --- Live events ----------------------------------------------------------------------------------
let joinTimer = null;
function joinAdminRoom() {
  clearTimeout(joinTimer);
  socket.timeout(15000).emit("admin_join", {}, function (err, ack) {
    if (err || !ack) { joinTimer = setTimeout(joinAdminRoom, 2000); return; }
    if (!ack.ok) {
      if (RETRY_LATER.has(ack.code)) joinTimer = setTimeout(joinAdminRoom, retryAfter(ack, 3) * 1000);
      else toSignIn(); // admin_required: the session is not (or no longer) signed in
      return;
    }
    desk.load();
    tellViewing();
    loadThreads(false).then(function () {
      if (current && threads.has(current)) { loadMessages(current); markSeen(current); }
      else if (current) closeThread();
      openFromLink();
    });
    outbox.setReady(true);
    checkTelegram();
  });
}
socket.on("connect", joinAdminRoom);

// "Open in panel" (the Telegram card's button): /admin?thread=<id> opens that conversation
// once, after the first list arrives.
let linkedThread = new URLSearchParams(window.location.search).get("thread");
function openFromLink() {
  if (!linkedThread) return;
  const id = linkedThread;
  linkedThread = null;
  window.history.replaceState(null, "", window.location.pathname + window.location.hash);
  if (threads.has(id)) openThread(id);
}

function knownOrReload(id) {
  if (threads.has(id)) return threads.get(id);
  loadThreads(false);
  return null;
}

socket.on("message_from_visitor", function (m) {
  const th = knownOrReload(m.thread_id);
  if (th) {
    upsertThread({ id: m.thread_id, last_message: m.content_text, last_message_type: m.type, last_message_time: m.created_at,
      last_message_iso: m.created_iso, last_activity_at: m.created_at, last_activity_iso: m.created_iso });
    seenOnline(th);
    th.typingUntil = 0;
  }
  const viewing = m.thread_id === current && document.visibilityState === "visible";
  if (m.thread_id === current) messages.add(m);
  if (viewing) markSeen(m.thread_id);
  else { unread[m.thread_id] = (unread[m.thread_id] || 0) + 1; saveUnread(); }
  renderList();
  announce(interpolate(gettext("%(name)s: %(text)s"), { name: (th && th.display_name) || gettext("Visitor"), text: previewText(m.type, m.content_text) }));
  alertNewMessage(m);
});
socket.on("message_from_telegram", function (m) {
  const th = knownOrReload(m.thread_id);
  if (th) upsertThread({ id: m.thread_id, last_message: m.content_text, last_message_type: m.type, last_message_time: m.created_at, last_message_iso: m.created_iso });
  if (m.thread_id === current) messages.add(m);
  renderList();
});
socket.on("visitor_online", function (d) {
  const th = knownOrReload(d.thread_id);
  if (th) { seenOnline(th); renderList(); }
});
socket.on("visitor_typing", function (d) {
  const th = threads.get(d.thread_id);
  if (!th) return;
  th.typingUntil = d.typing ? Date.now() + TYPING_SHOWN_MS : 0;
  seenOnline(th);
  renderList();
});
socket.on("thread_created", function (d) { upsertThread(d); renderList(); });
socket.on("thread_cleared", function (d) { clearedLocally(d.thread_id); });
socket.on("thread_deleted", function (d) {
  const th = threads.get(d.thread_id);
  if (th && th.el) th.el.li.remove();
  threads.delete(d.thread_id);
  delete unread[d.thread_id];
  saveUnread();
  if (d.thread_id === current) closeThread(); else renderList();
});
socket.on("all_cleared", allCleared);

// Admin returns to the tab: the open thread counts as read now.
document.addEventListener("visibilitychange", function () {
  if (document.visibilityState === "visible" && current && unread[current]) {
    unread[current] = 0;
    saveUnread();
    markSeen(current);
    renderList();
  }
});

filterInput.addEventListener("input", renderList);
filterInput.addEventListener("keydown", function (e) {
  if (e.key === "Enter") {
    // Opens the first hit; the Enter itself must not reach the reply box as a newline.
    e.preventDefault();
    const first = listEl.querySelector(".thread-item:not([hidden]) .thread");
    if (first) first.click();
  }
  if (e.key === "Escape") { search.clear(); renderList(); }
});
socket.on("visitor_seen", function (d) {
  const th = d && threads.get(d.thread_id);
  if (!th) return;
  th.visitor_seen_iso = d.seen_iso;
  if (d.thread_id === current) messages.seenUpTo(d.seen_iso);
});

// Online dots and typing expire on their own (the online window after the last heartbeat).
setInterval(renderList, REPAINT_MS);
