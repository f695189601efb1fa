/* The admin panel (/admin): every visitor thread, live, and the open conversation.
 *
 * The list comes from /api/threads and is then kept current by Socket.IO events from
 * admin_room. Unread counts are this browser's own bookkeeping (localStorage): the
 * server has no notion of "read by this admin".
 */
(function () {
  "use strict";
  const C = window.chatdesk, t = C.t;
  const gettext = window.gettext || function (s) { return s; };
  const ONLINE_MS = 60000;
  const KEYS = { unread: "chatdesk.admin.unread", sound: "chatdesk.admin.sound", notify: "chatdesk.admin.notify", outbox: "chatdesk.admin.outbox" };
  function load(key, fallback) { try { const v = JSON.parse(localStorage.getItem(key)); return v === null ? fallback : v; } catch (e) { return fallback; } }
  function save(key, value) { try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* memory only */ } }

  const panel = document.getElementById("panel");
  const listEl = document.getElementById("threads");
  const listEmpty = document.getElementById("threads-empty");
  const filterInput = document.getElementById("filter");
  const convEmpty = document.getElementById("conv-empty");
  const conv = document.getElementById("conv");
  const messagesEl = document.getElementById("messages");
  const convName = document.getElementById("conv-name");
  const convStatus = document.getElementById("conv-status");
  const convAvatar = document.getElementById("conv-avatar");
  const typingBox = document.getElementById("typing");
  const totalBadge = document.getElementById("total-unread");
  const baseTitle = panel.dataset.baseTitle || document.title;

  const threads = new Map();
  let unread = load(KEYS.unread, {});
  let current = null;
  let nextBefore = null;
  let loadingList = false;

  const outbox = new C.Outbox(KEYS.outbox, "message_to_visitor");
  const socket = C.connectSocket(function (state) {
    C.showConnection(state);
    if (state !== "online") outbox.ready = false;
  });
  outbox.socket = socket;

  // --- Helpers ----------------------------------------------------------------------
  function initials(name) {
    const parts = String(name || "?").trim().split(/\s+/).filter(Boolean);
    return ((parts[0] || "?").charAt(0) + (parts.length > 1 ? parts[parts.length - 1].charAt(0) : "")).toUpperCase();
  }
  function hue(id) { let h = 0; for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) % 360; return h; }
  function isOnline(th) { return th.onlineUntil > Date.now(); }
  function isTyping(th) { return th.typingUntil > Date.now(); }
  function sortKey(th) { return th.last_message_time || th.created_at || ""; }

  function updateTitle() {
    let total = 0;
    Object.keys(unread).forEach(function (id) { if (threads.has(id)) total += unread[id] || 0; });
    document.title = total ? "(" + total + ") " + baseTitle : baseTitle;
    totalBadge.textContent = String(total);
    totalBadge.hidden = !total;
    totalBadge.setAttribute("aria-label", C.tf(gettext("%(n)s unread"), { n: total }));
  }

  // --- The thread list ----------------------------------------------------------------
  function upsertThread(data) {
    let th = threads.get(data.id);
    if (!th) { th = { id: data.id, onlineUntil: 0, typingUntil: 0 }; threads.set(data.id, th); }
    ["display_name", "created_at", "last_activity_at", "last_message", "last_message_time", "last_message_type"].forEach(function (k) {
      if (k in data) th[k] = data[k];
    });
    if (data.online) th.onlineUntil = Math.max(th.onlineUntil, Date.now() + ONLINE_MS);
    return th;
  }

  function buildItem(th) {
    const li = C.el("li", "thread-item");
    const btn = C.el("button", "thread");
    btn.type = "button";
    btn.dataset.id = th.id;
    const avatar = C.el("span", "avatar");
    avatar.setAttribute("aria-hidden", "true");
    const dot = C.el("span", "online-dot");
    const main = C.el("span", "t-main");
    const top = C.el("span", "t-top");
    const nameEl = C.el("span", "t-name");
    const time = C.el("time", "t-time");
    top.append(nameEl, time);
    const bottom = C.el("span", "t-bottom");
    const preview = C.el("span", "t-preview");
    const badge = C.el("span", "badge");
    bottom.append(preview, badge);
    main.append(top, bottom);
    btn.append(avatar, dot, main);
    btn.addEventListener("click", function () { openThread(th.id); });
    li.appendChild(btn);
    th.el = { li: li, btn: btn, avatar: avatar, dot: dot, name: nameEl, time: time, preview: preview, badge: badge };
  }

  function paintItem(th) {
    if (!th.el) buildItem(th);
    const e = th.el;
    e.avatar.textContent = initials(th.display_name);
    e.avatar.dataset.hue = String(hue(th.id) % 12);
    e.name.textContent = th.display_name || "";
    e.time.textContent = C.shortWhen(th.last_message_time || th.created_at);
    const online = isOnline(th);
    e.dot.classList.toggle("is-online", online);
    e.dot.title = online ? gettext("Online") : gettext("Offline");
    if (isTyping(th)) { e.preview.textContent = gettext("typing…"); e.preview.classList.add("is-typing"); }
    else {
      e.preview.classList.remove("is-typing");
      e.preview.textContent = th.last_message_time ? C.previewText(th.last_message_type, th.last_message) : gettext("No messages yet");
    }
    const n = unread[th.id] || 0;
    e.badge.textContent = n ? String(n) : "";
    e.badge.hidden = !n;
    e.btn.classList.toggle("has-unread", !!n);
    e.btn.classList.toggle("is-active", th.id === current);
    if (th.id === current) e.btn.setAttribute("aria-current", "true"); else e.btn.removeAttribute("aria-current");
    const label = [th.display_name, online ? gettext("online") : "", n ? C.tf(gettext("%(n)s unread"), { n: n }) : ""].filter(Boolean).join(", ");
    e.btn.setAttribute("aria-label", label);
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
      const hay = ((th.display_name || "") + " " + (th.last_message || "")).toLocaleLowerCase();
      const visible = !needle || hay.indexOf(needle) >= 0;
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
      more = C.el("li", "load-more-item");
      const b = C.el("button", "btn ghost small block", gettext("Load older conversations"));
      b.type = "button";
      b.addEventListener("click", function () { loadThreads(true); });
      more.appendChild(b);
      listEl.appendChild(more);
    } else if (!nextBefore && more) more.remove();
    listEmpty.hidden = threads.size > 0;
    if (threads.size && !shown) { listEmpty.hidden = false; listEmpty.textContent = gettext("No conversation matches the search."); }
    else listEmpty.textContent = gettext("No conversations yet. They appear here as visitors write.");
    updateTitle();
    paintConvHead();
  }

  function loadThreads(older) {
    if (loadingList) return Promise.resolve();
    loadingList = true;
    let url = "/api/threads?limit=200";
    if (older && nextBefore) url += "&before=" + encodeURIComponent(nextBefore);
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (r.status === 401 || r.status === 403) { window.location.assign("/login"); return; }
      const next = r.headers.get("X-Next-Before");
      return r.json().then(function (items) {
        if (!older) {
          const seen = new Set(items.map(function (x) { return x.id; }));
          threads.forEach(function (th, id) { if (!seen.has(id) && th.el) th.el.li.remove(); if (!seen.has(id)) threads.delete(id); });
        }
        nextBefore = next;
        items.forEach(upsertThread);
        renderList();
      });
    }).catch(function () { /* offline: the socket's reconnect reloads */ }).then(function () { loadingList = false; });
  }

  // --- The open conversation --------------------------------------------------------
  function paintConvHead() {
    const th = current && threads.get(current);
    if (!th) return;
    convName.textContent = th.display_name || "";
    convAvatar.textContent = initials(th.display_name);
    convAvatar.dataset.hue = String(hue(th.id) % 12);
    let status;
    if (isTyping(th)) status = gettext("typing…");
    else if (isOnline(th)) status = gettext("Online");
    else if (th.last_activity_at) status = C.tf(gettext("Last seen %(when)s"), { when: C.shortWhen(th.last_activity_at) });
    else status = gettext("Offline");
    convStatus.textContent = status;
    convStatus.classList.toggle("is-online", isOnline(th));
    typingBox.hidden = !isTyping(th);
  }

  function appendMessage(m, state) {
    if (m.id && messagesEl.querySelector('[data-id="' + CSS.escape(m.id) + '"]')) return null;
    if (m.client_id && m.sender === "admin") {
      const existing = messagesEl.querySelector('.msg-mine[data-client-id="' + CSS.escape(m.client_id) + '"]');
      if (existing) {
        if (m.id) existing.dataset.id = m.id;
        const time = existing.querySelector("time");
        if (time && m.created_at) time.textContent = C.clock(m.created_at);
        C.setStatus(existing, "sent");
        return null;
      }
    }
    const mine = m.sender === "admin";
    const li = C.renderMessage(m, mine);
    if (mine) C.setStatus(li, state || "sent");
    if (m.via === "telegram") li.classList.add("via-telegram");
    const empty = messagesEl.querySelector(".empty-chat");
    if (empty) empty.remove();
    messagesEl.appendChild(li);
    C.scrollToEnd(messagesEl, mine);
    return li;
  }

  function showEmptyConversation() {
    if (!messagesEl.querySelector(".msg")) messagesEl.appendChild(C.el("li", "empty-chat", gettext("No messages in this conversation.")));
  }

  function pendingFor(threadId) {
    return outbox.items().filter(function (p) { return p.thread_id === threadId; });
  }

  function loadMessages(id) {
    return fetch("/api/messages?thread_id=" + encodeURIComponent(id), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (items) {
        if (current !== id) return;
        messagesEl.textContent = "";
        items.forEach(function (m) { appendMessage(m); });
        pendingFor(id).forEach(function (p) {
          appendMessage({ client_id: p.client_id, sender: "admin", type: p.type, content_text: p.text || null, file_path: p.file_url || null, created_at: p._created_at }, "pending");
        });
        showEmptyConversation();
        C.scrollToEnd(messagesEl, true);
      })
      .catch(function () { if (current === id) { messagesEl.textContent = ""; messagesEl.appendChild(C.el("li", "empty-chat", gettext("This conversation could not be loaded."))); } });
  }

  function markSeen(id) {
    if (socket.connected) socket.emit("mark_seen", { thread_id: id });
  }

  function openThread(id) {
    if (!threads.has(id)) return;
    current = id;
    convEmpty.hidden = true;
    conv.hidden = false;
    panel.classList.add("show-conv");
    messagesEl.textContent = "";
    messagesEl.appendChild(C.el("li", "empty-chat", gettext("Loading…")));
    unread[id] = 0;
    save(KEYS.unread, unread);
    renderList();
    loadMessages(id);
    markSeen(id);
    composer.focus();
  }

  function closeThread() {
    current = null;
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

  // --- Sending ------------------------------------------------------------------------
  function send(kind, text, url) {
    if (!current) return;
    const payload = { thread_id: current, type: kind, client_id: C.newClientId(), _created_at: C.nowStamp() };
    if (text) payload.text = text;
    if (url) payload.file_url = url;
    appendMessage({ client_id: payload.client_id, sender: "admin", type: kind, content_text: text || null, file_path: url || null, created_at: payload._created_at }, "pending");
    outbox.add(payload);
  }
  outbox.onAck = function (payload, message) {
    if (payload.thread_id === current) appendMessage(message);
    const th = threads.get(payload.thread_id);
    if (th && message) {
      upsertThread({ id: th.id, last_message: message.content_text, last_message_type: message.type, last_message_time: message.created_at });
      renderList();
    }
  };
  outbox.onRefused = function (payload, error) {
    const li = messagesEl.querySelector('[data-client-id="' + CSS.escape(payload.client_id) + '"]');
    C.setStatus(li, "failed");
    C.toast(t(error) || gettext("The message could not be sent."));
  };
  outbox.onUnknownThread = function (payload) {
    // The thread was deleted meanwhile: drop what was meant for it, carry on with the rest.
    outbox.remove(payload.client_id);
    outbox.ready = true;
    outbox.flush();
  };

  const composer = C.Composer({
    root: conv,
    canSend: function () { return !!current; },
    onText: function (text) { send("text", text, null); },
    onMedia: function (kind, url) { send(kind, null, url); },
    onTyping: function (typing) { if (current && socket.connected) socket.volatile.emit("typing", { thread_id: current, typing: typing }); },
    onError: function (text) { C.toast(text); },
    onStatus: function (text) { if (text) C.announce(text); },
  });

  // --- Clearing -------------------------------------------------------------------------
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
  function postJson(url) {
    return fetch(url, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": C.csrfToken() } })
      .then(function (r) { return r.json(); });
  }
  document.getElementById("clear-thread").addEventListener("click", function () {
    const id = current, th = threads.get(id);
    if (!th) return;
    confirmAction(gettext("Clear this conversation?"),
      C.tf(gettext("All messages with %(name)s are deleted for good. The visitor's chat is emptied too."), { name: th.display_name }),
      gettext("Clear conversation")).then(function (ok) {
      if (!ok) return;
      postJson("/api/messages/clear?thread_id=" + encodeURIComponent(id)).then(function (d) {
        if (!d.success) { C.toast(t(d.error || "")); return; }
        clearedLocally(id);
      });
    });
  });
  document.getElementById("clear-all").addEventListener("click", function () {
    confirmAction(gettext("Delete every conversation?"),
      gettext("Every conversation and message is deleted for good. This cannot be undone."),
      gettext("Delete everything")).then(function (ok) {
      if (!ok) return;
      postJson("/api/messages/clear_all").then(function (d) { if (d.success) allCleared(); });
    });
  });
  function clearedLocally(id) {
    const th = threads.get(id);
    if (th) { th.last_message = null; th.last_message_type = null; th.last_message_time = null; }
    unread[id] = 0;
    save(KEYS.unread, unread);
    if (id === current) { messagesEl.textContent = ""; showEmptyConversation(); }
    renderList();
  }
  function allCleared() {
    threads.forEach(function (th) { if (th.el) th.el.li.remove(); });
    threads.clear();
    unread = {};
    save(KEYS.unread, unread);
    closeThread();
  }

  // --- Alerts: opt-in sound and notification while the tab is hidden ----------------------
  let audioCtx = null;
  const soundBtn = document.getElementById("sound-toggle");
  const notifyBtn = document.getElementById("notify-toggle");
  function paintToggles() {
    soundBtn.setAttribute("aria-pressed", String(!!load(KEYS.sound, false)));
    const granted = "Notification" in window && Notification.permission === "granted";
    notifyBtn.setAttribute("aria-pressed", String(!!load(KEYS.notify, false) && granted));
    if (!("Notification" in window)) notifyBtn.hidden = true;
  }
  soundBtn.addEventListener("click", function () {
    const on = !load(KEYS.sound, false);
    save(KEYS.sound, on);
    if (on) { try { audioCtx = audioCtx || new (window.AudioContext || window.webkitAudioContext)(); beep(); } catch (e) { /* no audio */ } }
    paintToggles();
  });
  notifyBtn.addEventListener("click", function () {
    const on = !(load(KEYS.notify, false) && Notification.permission === "granted");
    save(KEYS.notify, on);
    if (on && Notification.permission !== "granted") {
      Notification.requestPermission().then(function (p) {
        if (p !== "granted") C.toast(gettext("Notifications are blocked in this browser's settings."));
        paintToggles();
      });
    }
    paintToggles();
  });
  function beep() {
    if (!audioCtx) return;
    const osc = audioCtx.createOscillator(), gain = audioCtx.createGain();
    osc.type = "sine";
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.0001, audioCtx.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.2, audioCtx.currentTime + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, audioCtx.currentTime + 0.35);
    osc.connect(gain).connect(audioCtx.destination);
    osc.start();
    osc.stop(audioCtx.currentTime + 0.4);
  }
  function alertNewMessage(m) {
    if (document.visibilityState !== "hidden") return;
    if (load(KEYS.sound, false)) { try { audioCtx = audioCtx || new (window.AudioContext || window.webkitAudioContext)(); beep(); } catch (e) { /* no audio */ } }
    if (load(KEYS.notify, false) && "Notification" in window && Notification.permission === "granted") {
      const th = threads.get(m.thread_id);
      const n = new Notification((th && th.display_name) || gettext("New message"), { body: C.previewText(m.type, m.content_text), tag: m.thread_id });
      n.onclick = function () { window.focus(); openThread(m.thread_id); n.close(); };
    }
  }
  paintToggles();

  // --- Live events ------------------------------------------------------------------------
  function joinAdminRoom() {
    socket.timeout(15000).emit("admin_join", {}, function (err, ack) {
      if (err) { setTimeout(joinAdminRoom, 2000); return; }
      if (!ack || !ack.ok) { window.location.assign("/login"); return; }
      loadThreads(false).then(function () {
        if (current && threads.has(current)) { loadMessages(current); markSeen(current); }
        else if (current) closeThread();
      });
      outbox.ready = true;
      outbox.flush();
    });
  }
  socket.on("connect", joinAdminRoom);

  function knownOrReload(id) {
    if (threads.has(id)) return threads.get(id);
    loadThreads(false);
    return null;
  }

  socket.on("message_from_visitor", function (m) {
    const th = knownOrReload(m.thread_id);
    if (th) {
      upsertThread({ id: m.thread_id, last_message: m.content_text, last_message_type: m.type, last_message_time: m.created_at, last_activity_at: m.created_at });
      th.onlineUntil = Date.now() + ONLINE_MS;
      th.typingUntil = 0;
    }
    const viewing = m.thread_id === current && document.visibilityState === "visible";
    if (m.thread_id === current) appendMessage(m);
    if (viewing) markSeen(m.thread_id);
    else { unread[m.thread_id] = (unread[m.thread_id] || 0) + 1; save(KEYS.unread, unread); }
    renderList();
    C.announce(C.tf(gettext("%(name)s: %(text)s"), { name: (th && th.display_name) || gettext("Visitor"), text: C.previewText(m.type, m.content_text) }));
    alertNewMessage(m);
  });
  socket.on("message_from_telegram", function (m) {
    const th = knownOrReload(m.thread_id);
    if (th) upsertThread({ id: m.thread_id, last_message: m.content_text, last_message_type: m.type, last_message_time: m.created_at });
    if (m.thread_id === current) appendMessage(m);
    renderList();
  });
  socket.on("visitor_online", function (d) {
    const th = knownOrReload(d.thread_id);
    if (th) { th.onlineUntil = Date.now() + ONLINE_MS; renderList(); }
  });
  socket.on("visitor_typing", function (d) {
    const th = threads.get(d.thread_id);
    if (!th) return;
    th.typingUntil = d.typing ? Date.now() + 6000 : 0;
    th.onlineUntil = Date.now() + ONLINE_MS;
    renderList();
  });
  socket.on("thread_created", function (d) { upsertThread(d); renderList(); });
  socket.on("thread_cleared", function (d) { clearedLocally(d.thread_id); });
  socket.on("thread_deleted", function (d) {
    const th = threads.get(d.thread_id);
    if (th && th.el) th.el.li.remove();
    threads.delete(d.thread_id);
    delete unread[d.thread_id];
    save(KEYS.unread, unread);
    if (d.thread_id === current) closeThread(); else renderList();
  });
  socket.on("all_cleared", allCleared);

  // Admin returns to the tab: the open thread counts as read now.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && current && unread[current]) {
      unread[current] = 0;
      save(KEYS.unread, unread);
      markSeen(current);
      renderList();
    }
  });

  filterInput.addEventListener("input", renderList);
  filterInput.addEventListener("keydown", function (e) {
    if (e.key === "Enter") { const first = listEl.querySelector(".thread-item:not([hidden]) .thread"); if (first) first.click(); }
    if (e.key === "Escape") { filterInput.value = ""; renderList(); }
  });

  // Online dots and typing expire on their own (60 s after the last heartbeat).
  setInterval(renderList, 5000);
})();
