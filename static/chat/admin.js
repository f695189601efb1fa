(function () {
  "use strict";
  const socket = io({ transports: ["websocket", "polling"], reconnection: true, reconnectionDelay: 1000,
    reconnectionAttempts: 10, timeout: 30000, upgrade: true, rememberUpgrade: true });
  let current = null;
  const threads = document.getElementById("threads"), list = document.getElementById("messages");
  function show(m) { if (m.thread_id !== current) return; const li = document.createElement("li"); li.className = m.sender; li.textContent = m.content_text || m.file_path || ""; list.appendChild(li); }
  function open(id) { current = id; fetch("/api/messages?thread_id=" + id).then(function (r) { return r.json(); }).then(function (ms) { list.textContent = ""; ms.forEach(show); }); }
  function load() { fetch("/api/threads").then(function (r) { return r.json(); }).then(function (ts) { threads.textContent = ""; ts.forEach(function (t) { const li = document.createElement("li"); li.textContent = t.display_name + ": " + (t.last_message || ""); li.addEventListener("click", function () { open(t.id); }); threads.appendChild(li); }); }); }
  socket.on("connect", function () { socket.emit("admin_join", {}); load(); });
  socket.on("message_from_visitor", function (m) { show(m); load(); });
  socket.on("message_from_telegram", function (m) { show(m); load(); });
  document.getElementById("reply-form").addEventListener("submit", function (e) {
    e.preventDefault(); const input = document.getElementById("reply"); const text = input.value.trim(); if (!text || !current) return;
    socket.emit("message_to_visitor", { thread_id: current, type: "text", text: text }, function (ack) { if (ack && ack.ok) input.value = ""; });
  });
})();
