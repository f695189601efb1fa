(function () {
  "use strict";
  const socket = io({ transports: ["websocket", "polling"], reconnection: true, reconnectionDelay: 1000,
    reconnectionAttempts: 10, timeout: 30000, upgrade: true, rememberUpgrade: true });
  let threadId = localStorage.getItem("chatdesk.thread_id");
  const list = document.getElementById("messages");
  function show(m) { const li = document.createElement("li"); li.className = m.sender; li.textContent = m.content_text || m.file_path || ""; list.appendChild(li); }
  function join(name) {
    socket.emit("join", { display_name: name, thread_id: threadId || undefined }, function (ack) {
      if (!ack || !ack.ok) return;
      threadId = ack.thread_id; localStorage.setItem("chatdesk.thread_id", threadId);
      localStorage.setItem("chatdesk.name", name);
      list.textContent = ""; (ack.messages || []).forEach(show);
      document.getElementById("name-form").hidden = true; document.getElementById("chat").hidden = false;
    });
  }
  document.getElementById("name-form").addEventListener("submit", function (e) { e.preventDefault(); join(document.getElementById("name").value); });
  socket.on("connect", function () { const n = localStorage.getItem("chatdesk.name"); if (n) join(n); });
  socket.on("message_from_admin", show);
  document.getElementById("send-form").addEventListener("submit", function (e) {
    e.preventDefault(); const input = document.getElementById("text"); const text = input.value.trim(); if (!text) return;
    socket.emit("message_to_admin", { thread_id: threadId, type: "text", text: text }, function (ack) { if (ack && ack.ok) { show(ack.message); input.value = ""; } });
  });
  setInterval(function () { if (threadId) socket.emit("heartbeat", { thread_id: threadId }); }, 30000);
})();
