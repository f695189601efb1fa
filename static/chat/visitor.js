/* The visitor chat (/): name, then a conversation with the site's admins.
 *
 * The thread id and the visitor's name are kept in localStorage, so a reload or a closed
 * tab comes back to the same conversation (the server also remembers the visitor's
 * threads in their session). Messages go through an outbox that resends until the
 * server acknowledges them; each carries a client_id, so none is stored twice.
 */
(function () {
  "use strict";
  const C = window.chatdesk, t = C.t;
  const gettext = window.gettext || function (s) { return s; };
  const KEYS = { name: "chatdesk.name", thread: "chatdesk.thread_id", outbox: "chatdesk.outbox" };
  const store = {
    get: function (k) { try { return localStorage.getItem(k); } catch (e) { return null; } },
    set: function (k, v) { try { localStorage.setItem(k, v); } catch (e) { /* memory only */ } },
    del: function (k) { try { localStorage.removeItem(k); } catch (e) { /* ignore */ } },
  };

  const root = document.getElementById("vchat");
  const embedded = root.dataset.embed === "1";
  const welcome = document.getElementById("welcome");
  const chat = document.getElementById("chat");
  const list = document.getElementById("messages");
  const typingBox = document.getElementById("typing");
  const nameInput = document.getElementById("name");
  const nameError = document.getElementById("name-error");

  let name = store.get(KEYS.name);
  let threadId = store.get(KEYS.thread);
  let joined = false, joining = false;
  const outbox = new C.Outbox(KEYS.outbox, "message_to_admin");
  const socket = C.connectSocket(function (state) {
    C.showConnection(state);
    if (state !== "online") { joined = false; outbox.ready = false; }
  });
  outbox.socket = socket;

  function showChat() {
    welcome.hidden = true;
    chat.hidden = false;
    root.classList.add("is-chatting");
  }

  function notice(text, kind) {
    const li = C.el("li", "notice-line" + (kind ? " " + kind : ""), text);
    list.appendChild(li);
    C.scrollToEnd(list, true);
    if (kind === "error") setTimeout(function () { li.remove(); }, 8000);
  }

  function refreshStatuses() {
    const mine = list.querySelectorAll(".msg-mine");
    mine.forEach(function (li, i) { li.classList.toggle("last-mine", i === mine.length - 1); });
  }

  function findByClientId(id) {
    return id ? list.querySelector('[data-client-id="' + CSS.escape(id) + '"]') : null;
  }

  function addMessage(m, state) {
    if (m.id && list.querySelector('[data-id="' + CSS.escape(m.id) + '"]')) return null;
    if (m.client_id && m.sender === "visitor" && findByClientId(m.client_id)) return null;
    const mine = m.sender === "visitor";
    const li = C.renderMessage(m, mine);
    if (mine) C.setStatus(li, state || "sent");
    const empty = list.querySelector(".empty-chat");
    if (empty) empty.remove();
    list.appendChild(li);
    refreshStatuses();
    C.scrollToEnd(list, mine);
    return li;
  }

  function showEmptyHint() {
    if (!list.children.length) list.appendChild(C.el("li", "empty-chat", gettext("Say hello: we will answer here.")));
  }

  function renderHistory(messages) {
    list.textContent = "";
    const stored = new Set();
    (messages || []).forEach(function (m) {
      if (m.client_id) stored.add(m.client_id);
      addMessage(m, "sent");
    });
    // Anything still in the outbox is shown as waiting (unless the server already has it).
    outbox.items().forEach(function (p) {
      if (stored.has(p.client_id)) { outbox.remove(p.client_id); return; }
      addMessage(pendingMessage(p), "pending");
    });
    showEmptyHint();
    C.scrollToEnd(list, true);
  }

  function pendingMessage(p) {
    return {
      client_id: p.client_id, sender: "visitor", type: p.type, content_text: p.text || null,
      file_path: p.file_url || null, created_at: p._created_at || C.nowStamp(),
    };
  }

  function join(fresh) {
    if (!name || joining || !socket.connected) return;
    joining = true;
    const payload = { display_name: name };
    if (threadId && !fresh) payload.thread_id = threadId;
    socket.timeout(15000).emit("join", payload, function (err, ack) {
      joining = false;
      if (err) { setTimeout(function () { join(fresh); }, 2000); return; }
      if (!ack || !ack.ok) {
        if (ack && /display_name|name/i.test(ack.error || "")) {
          store.del(KEYS.name); name = null; chat.hidden = true; welcome.hidden = false;
          nameError.textContent = t(ack.error);
        } else {
          setTimeout(function () { join(fresh); }, 3000);
        }
        return;
      }
      const changed = ack.thread_id !== threadId;
      threadId = ack.thread_id;
      store.set(KEYS.thread, threadId);
      if (changed) outbox.retarget(threadId);
      renderHistory(ack.resumed ? ack.messages : []);
      joined = true;
      outbox.ready = true;
      socket.emit("heartbeat", { thread_id: threadId });
      outbox.flush();
    });
  }

  outbox.onAck = function (payload, message) {
    const li = findByClientId(payload.client_id);
    if (!li) { addMessage(message, "sent"); return; }
    if (message && message.id) li.dataset.id = message.id;
    const time = li.querySelector("time");
    if (time && message && message.created_at) time.textContent = C.clock(message.created_at);
    C.setStatus(li, "sent");
  };
  outbox.onRefused = function (payload, error) {
    C.setStatus(findByClientId(payload.client_id), "failed");
    notice(t(error) || gettext("The message could not be sent."), "error");
  };
  outbox.onUnknownThread = function () {
    // The admins cleared everything: carry on in a new conversation, transparently.
    threadId = null;
    store.del(KEYS.thread);
    join(true);
  };

  function send(payload) {
    payload.client_id = C.newClientId();
    payload.thread_id = threadId;
    payload.created_at = C.nowStamp();
    addMessage(pendingMessage(payload), "pending");
    const wire = { thread_id: payload.thread_id, type: payload.type, client_id: payload.client_id };
    if (payload.text) wire.text = payload.text;
    if (payload.file_url) wire.file_url = payload.file_url;
    wire._created_at = payload.created_at;
    outbox.add(wire);
  }

  C.Composer({
    root: chat,
    onText: function (text) { send({ type: "text", text: text }); },
    onMedia: function (kind, url) { send({ type: kind, file_url: url }); },
    onTyping: function (typing) {
      if (joined && socket.connected) socket.volatile.emit("typing", { thread_id: threadId, typing: typing });
    },
    onError: function (text) { notice(text, "error"); },
    onStatus: function (text) { if (text) C.announce(text); },
  });

  document.getElementById("name-form").addEventListener("submit", function (e) {
    e.preventDefault();
    const value = nameInput.value.trim();
    if (!value) { nameError.textContent = gettext("Please tell us your name."); nameInput.focus(); return; }
    nameError.textContent = "";
    name = value.slice(0, 80);
    store.set(KEYS.name, name);
    showChat();
    showEmptyHint();
    document.getElementById("text").focus();
    join(false);
  });

  socket.on("connect", function () { if (name) join(false); });

  let typingHide = null;
  function setTyping(on) {
    typingBox.hidden = !on;
    clearTimeout(typingHide);
    if (on) typingHide = setTimeout(function () { typingBox.hidden = true; }, 8000);
  }

  socket.on("message_from_admin", function (m) {
    if (!m || m.thread_id !== threadId) return;
    setTyping(false);
    if (addMessage(m)) {
      C.announce(C.tf(gettext("Support: %(text)s"), { text: C.previewText(m.type, m.content_text) }));
      if (embedded && window.parent !== window) window.parent.postMessage({ chatdesk: "message" }, "*");
    }
  });
  socket.on("admin_typing", function (d) { if (d && d.thread_id === threadId) setTyping(!!d.typing); });
  socket.on("admin_seen", function (d) {
    if (!d || d.thread_id !== threadId) return;
    list.querySelectorAll('.msg-mine[data-state="sent"]').forEach(function (li) { C.setStatus(li, "seen"); });
  });
  socket.on("thread_cleared", function (d) {
    if (!d || d.thread_id !== threadId) return;
    list.querySelectorAll(".msg:not([data-state=pending])").forEach(function (li) { li.remove(); });
    showEmptyHint();
  });
  socket.on("thread_deleted", function (d) {
    if (!d || d.thread_id !== threadId) return;
    list.querySelectorAll(".msg:not([data-state=pending])").forEach(function (li) { li.remove(); });
    threadId = null;
    store.del(KEYS.thread);
    showEmptyHint();
  });

  setInterval(function () {
    if (joined && socket.connected && threadId) socket.emit("heartbeat", { thread_id: threadId });
  }, 30000);

  const closeBtn = document.getElementById("embed-close");
  if (closeBtn) closeBtn.addEventListener("click", function () {
    if (window.parent !== window) window.parent.postMessage({ chatdesk: "close" }, "*");
  });

  // The start button is disabled in the HTML until this script runs (no native submit).
  document.getElementById("start").disabled = false;
  if (name) {
    nameInput.value = name;
    showChat();
  } else {
    nameInput.focus();
  }
})();
