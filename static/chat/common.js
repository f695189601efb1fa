/* chatdesk: what the visitor chat and the admin panel share.
 *
 * Plain browser JavaScript, no build step. Everything a person typed is put on the
 * page with textContent (never innerHTML). Strings go through Django's JavaScript
 * catalogue (/jsi18n/), so the same file speaks English and Turkish.
 */
(function () {
  "use strict";

  const gettext = window.gettext || function (s) { return s; };
  const interpolate = window.interpolate || function (s) { return s; };
  function t(s) { return gettext(s); }
  function tf(translated, values) { return interpolate(translated, values, true); }

  function csrfToken() {
    const m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    const bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.from(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  // "YYYY-MM-DD HH:MM:SS" in the server's time zone: show it as the server wrote it.
  function clock(stamp) {
    return typeof stamp === "string" && stamp.length >= 16 ? stamp.slice(11, 16) : "";
  }
  function shortWhen(stamp) {
    if (typeof stamp !== "string" || stamp.length < 16) return "";
    const d = new Date();
    const today = d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
    return stamp.slice(0, 10) === today ? stamp.slice(11, 16) : stamp.slice(8, 10) + "." + stamp.slice(5, 7);
  }
  function nowStamp() {
    const d = new Date();
    const p = function (n) { return String(n).padStart(2, "0"); };
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
  }

  // Only our own uploads (a path on this site) or https URLs (Cloudinary) become src.
  function safeUrl(url) {
    if (typeof url !== "string") return null;
    if (/^\/(?!\/)/.test(url)) return url;
    if (/^https:\/\//i.test(url)) return url;
    return null;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function previewText(type, text) {
    if (type === "image") return "📷 " + (text || gettext("Photo"));
    if (type === "audio") return "🎤 " + (text || gettext("Voice note"));
    return text || "";
  }

  // --- Lightbox ------------------------------------------------------------------
  function openLightbox(src) {
    const dialog = document.getElementById("lightbox");
    const img = document.getElementById("lightbox-img");
    if (!dialog || !img) return;
    img.src = src;
    if (typeof dialog.showModal === "function") dialog.showModal();
  }
  document.addEventListener("DOMContentLoaded", function () {
    const dialog = document.getElementById("lightbox");
    if (dialog) dialog.addEventListener("click", function (e) { if (e.target === dialog) dialog.close(); });
  });

  // --- One message bubble ----------------------------------------------------------
  /* mine: is this message the viewer's own side (right-hand, coloured)? */
  function renderMessage(m, mine, extraClass) {
    const li = el("li", "msg " + (mine ? "msg-mine" : "msg-theirs") + (extraClass ? " " + extraClass : ""));
    li.dataset.sender = m.sender || "";
    if (m.id) li.dataset.id = m.id;
    if (m.client_id) li.dataset.clientId = m.client_id;
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

  function setStatus(li, state) {
    const status = li && li.querySelector(".status");
    if (!status) return;
    li.dataset.state = state;
    const label = { pending: gettext("Sending…"), sent: gettext("Sent"), seen: gettext("Seen"), failed: gettext("Not sent") }[state] || "";
    status.textContent = label;
  }

  // --- Uploads (XMLHttpRequest: fetch has no upload progress) ------------------------
  function upload(kind, blob, filename, onProgress) {
    return new Promise(function (resolve, reject) {
      const form = new FormData();
      form.append("file", blob, filename);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/upload/" + kind);
      xhr.setRequestHeader("X-CSRFToken", csrfToken());
      xhr.responseType = "json";
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable && onProgress) onProgress(Math.round((e.loaded / e.total) * 100));
      });
      xhr.addEventListener("load", function () {
        const body = xhr.response || {};
        if (xhr.status === 200 && body.url) return resolve(body.url);
        let reason = body.error ? t(body.error) : gettext("The upload failed.");
        if (xhr.status === 413) reason = gettext("The file is too large.");
        else if (xhr.status === 429) reason = gettext("Too many uploads; wait a minute and try again.");
        reject(new Error(reason));
      });
      xhr.addEventListener("error", function () { reject(new Error(gettext("The upload failed: no connection."))); });
      xhr.send(form);
    });
  }

  // --- Outbox: every message is stored locally until the server acknowledged it ------
  /* Messages wait in localStorage under `key` and are emitted in order while the socket
   * is ready; a resend carries the same client_id, so the server stores it once. */
  function Outbox(key, eventName) {
    this.key = key;
    this.eventName = eventName;
    this.sending = false;
    this.ready = false;
    this.socket = null;
    this.onAck = function () {};
    this.onRefused = function () {};
    this.onUnknownThread = function () {};
    this.retryTimer = null;
  }
  Outbox.prototype.items = function () {
    try { return JSON.parse(localStorage.getItem(this.key) || "[]"); } catch (e) { return []; }
  };
  Outbox.prototype.save = function (items) {
    try { localStorage.setItem(this.key, JSON.stringify(items)); } catch (e) { /* private mode: memory only */ }
    this.memory = items;
  };
  Outbox.prototype.add = function (payload) {
    const items = this.items();
    items.push(payload);
    this.save(items);
    this.flush();
  };
  Outbox.prototype.remove = function (clientId) {
    this.save(this.items().filter(function (p) { return p.client_id !== clientId; }));
  };
  Outbox.prototype.retarget = function (threadId) {
    this.save(this.items().map(function (p) { return Object.assign({}, p, { thread_id: threadId }); }));
  };
  Outbox.prototype.flush = function () {
    const self = this;
    if (self.sending || !self.ready || !self.socket || !self.socket.connected) return;
    const items = self.items();
    if (!items.length) return;
    const payload = items[0];
    self.sending = true;
    // Keys starting with "_" are local bookkeeping (e.g. when it was typed), not sent.
    const wire = {};
    Object.keys(payload).forEach(function (k) { if (k.charAt(0) !== "_") wire[k] = payload[k]; });
    self.socket.timeout(15000).emit(self.eventName, wire, function (err, ack) {
      self.sending = false;
      if (err) {
        // No answer: keep it and try again (the same client_id is stored only once).
        clearTimeout(self.retryTimer);
        self.retryTimer = setTimeout(function () { self.flush(); }, 3000);
        return;
      }
      if (ack && ack.ok) {
        self.remove(payload.client_id);
        self.onAck(payload, ack.message, ack.duplicate);
      } else if (ack && ack.error === "Unknown thread.") {
        self.ready = false;
        self.onUnknownThread(payload);
        return;
      } else if (ack && /slow down|temporarily|retry/i.test(ack.error || "")) {
        clearTimeout(self.retryTimer);
        self.retryTimer = setTimeout(function () { self.flush(); }, 5000);
        return;
      } else {
        self.remove(payload.client_id);
        self.onRefused(payload, (ack && ack.error) || "");
      }
      self.flush();
    });
  };

  // --- Socket with the contract's options, and a visitor is never stranded -----------
  function connectSocket(onState) {
    const socket = window.io({
      transports: ["websocket", "polling"],
      reconnection: true,
      reconnectionDelay: 1000,
      reconnectionAttempts: 10,
      timeout: 30000,
      upgrade: true,
      rememberUpgrade: true,
    });
    let slowRetry = null;
    function retrySoon(delay) {
      clearTimeout(slowRetry);
      slowRetry = setTimeout(function () { if (!socket.connected) socket.connect(); }, delay);
    }
    socket.on("connect", function () { clearTimeout(slowRetry); onState("online"); });
    socket.on("disconnect", function (reason) {
      onState("reconnecting");
      // The server closed us on purpose (e.g. sign-out elsewhere): the client will not retry.
      if (reason === "io server disconnect") retrySoon(3000);
    });
    socket.on("connect_error", function () { if (!socket.connected) onState("reconnecting"); });
    socket.io.on("reconnect_attempt", function () { onState("reconnecting"); });
    // Ten quick attempts failed: keep trying, slowly, for as long as the page is open.
    socket.io.on("reconnect_failed", function () { onState("offline"); retrySoon(15000); });
    window.addEventListener("online", function () { if (!socket.connected) retrySoon(200); });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && !socket.connected) retrySoon(200);
    });
    return socket;
  }

  function showConnection(state) {
    const box = document.getElementById("conn");
    const text = document.getElementById("conn-text");
    if (!box || !text) return;
    box.dataset.state = state;
    text.textContent = {
      connecting: gettext("Connecting…"),
      online: gettext("Online"),
      reconnecting: gettext("Reconnecting…"),
      offline: gettext("Offline: messages will be sent when the connection is back"),
    }[state] || state;
  }

  // --- The composer: text, photo (picker, paste, drop) and voice notes ---------------
  function pickAudioType() {
    if (!window.MediaRecorder || typeof MediaRecorder.isTypeSupported !== "function") return "";
    const types = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4", "audio/webm"];
    for (let i = 0; i < types.length; i++) if (MediaRecorder.isTypeSupported(types[i])) return types[i];
    return "";
  }
  function audioExtension(type) {
    if (/ogg/.test(type)) return "ogg";
    if (/mp4|aac/.test(type)) return "m4a";
    return "webm";
  }
  function formatSeconds(s) { return Math.floor(s / 60) + ":" + String(Math.floor(s % 60)).padStart(2, "0"); }

  /* opts: {root, onText(text), onMedia(kind, url), onTyping(bool), canSend(): bool} */
  function Composer(opts) {
    const root = opts.root;
    const q = function (role) { return root.querySelector('[data-role="' + role + '"]'); };
    const form = q("composer"), text = q("text"), fileInput = q("file");
    const preview = q("preview"), previewImg = q("preview-img"), previewName = q("preview-name");
    const progress = q("progress"), previewError = q("preview-error");
    const recorderBox = q("recorder"), recTime = q("rec-time");
    const dropHint = q("drop-hint");
    let pendingFile = null, previewUrl = null, uploading = false;
    let typingTimer = null, typingSent = 0;

    function autosize() {
      text.style.height = "auto";
      text.style.height = Math.min(text.scrollHeight, 140) + "px";
    }
    function stopTyping() {
      clearTimeout(typingTimer);
      if (typingSent) { typingSent = 0; opts.onTyping(false); }
    }
    text.addEventListener("input", function () {
      autosize();
      if (!text.value.trim()) { stopTyping(); return; }
      const now = Date.now();
      if (now - typingSent > 2500) { typingSent = now; opts.onTyping(true); }
      clearTimeout(typingTimer);
      typingTimer = setTimeout(stopTyping, 4000);
    });
    text.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      const value = text.value.trim();
      if (!value) return;
      if (opts.canSend && !opts.canSend()) return;
      opts.onText(value);
      text.value = "";
      autosize();
      stopTyping();
      text.focus();
    });

    // Photos
    function showPreview(file) {
      if (!file || !/^image\//.test(file.type)) {
        previewError.textContent = gettext("Only photos can be sent here (PNG, JPEG, GIF, WebP).");
        preview.hidden = false;
        previewImg.hidden = true;
        return;
      }
      pendingFile = file;
      if (previewUrl) URL.revokeObjectURL(previewUrl);
      previewUrl = URL.createObjectURL(file);
      previewImg.src = previewUrl;
      previewImg.hidden = false;
      previewName.textContent = file.name || gettext("Photo");
      previewError.textContent = "";
      progress.hidden = true;
      progress.value = 0;
      preview.hidden = false;
      q("preview-send").focus();
    }
    function closePreview() {
      pendingFile = null;
      if (previewUrl) URL.revokeObjectURL(previewUrl);
      previewUrl = null;
      preview.hidden = true;
      fileInput.value = "";
    }
    q("attach").addEventListener("click", function () { fileInput.click(); });
    fileInput.addEventListener("change", function () { if (fileInput.files[0]) showPreview(fileInput.files[0]); });
    q("preview-cancel").addEventListener("click", function () { if (!uploading) { closePreview(); text.focus(); } });
    q("preview-send").addEventListener("click", function () {
      if (!pendingFile || uploading) return;
      if (opts.canSend && !opts.canSend()) return;
      uploading = true;
      progress.hidden = false;
      previewError.textContent = "";
      const file = pendingFile;
      upload("image", file, file.name || "photo.png", function (pct) { progress.value = pct; })
        .then(function (url) { opts.onMedia("image", url); closePreview(); text.focus(); })
        .catch(function (err) { previewError.textContent = err.message; progress.hidden = true; })
        .then(function () { uploading = false; });
    });
    text.addEventListener("paste", function (e) {
      const items = (e.clipboardData && e.clipboardData.files) || [];
      if (items.length && /^image\//.test(items[0].type)) { e.preventDefault(); showPreview(items[0]); }
    });
    let dragDepth = 0;
    root.addEventListener("dragenter", function (e) { if (e.dataTransfer && Array.from(e.dataTransfer.types).indexOf("Files") >= 0) { dragDepth++; dropHint.hidden = false; } });
    root.addEventListener("dragleave", function () { dragDepth = Math.max(0, dragDepth - 1); if (!dragDepth) dropHint.hidden = true; });
    root.addEventListener("dragover", function (e) { e.preventDefault(); });
    root.addEventListener("drop", function (e) {
      e.preventDefault();
      dragDepth = 0;
      dropHint.hidden = true;
      if (e.dataTransfer && e.dataTransfer.files[0]) showPreview(e.dataTransfer.files[0]);
    });

    // Voice notes
    let recorder = null, stream = null, chunks = [], started = 0, tick = null, cancelled = false;
    function stopStream() { if (stream) stream.getTracks().forEach(function (tr) { tr.stop(); }); stream = null; }
    function endRecording() {
      clearInterval(tick);
      recorderBox.hidden = true;
      form.hidden = false;
    }
    q("record").addEventListener("click", function () {
      const type = pickAudioType();
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.MediaRecorder) {
        opts.onError(gettext("This browser cannot record voice notes."));
        return;
      }
      navigator.mediaDevices.getUserMedia({ audio: true }).then(function (s) {
        stream = s;
        chunks = [];
        cancelled = false;
        recorder = type ? new MediaRecorder(s, { mimeType: type }) : new MediaRecorder(s);
        recorder.addEventListener("dataavailable", function (e) { if (e.data && e.data.size) chunks.push(e.data); });
        recorder.addEventListener("stop", function () {
          stopStream();
          endRecording();
          if (cancelled || !chunks.length) return;
          const mime = recorder.mimeType || type || "audio/webm";
          const blob = new Blob(chunks, { type: mime });
          opts.onStatus(gettext("Sending the voice note…"));
          upload("audio", blob, "voice." + audioExtension(mime))
            .then(function (url) { opts.onStatus(""); opts.onMedia("audio", url); })
            .catch(function (err) { opts.onError(err.message); });
        });
        recorder.start(250);
        started = Date.now();
        recTime.textContent = "0:00";
        tick = setInterval(function () {
          const secs = (Date.now() - started) / 1000;
          recTime.textContent = formatSeconds(secs);
          if (secs >= 300) q("rec-send").click(); // five minutes at most
        }, 250);
        form.hidden = true;
        recorderBox.hidden = false;
        q("rec-send").focus();
      }).catch(function () {
        opts.onError(gettext("No microphone, or permission to use it was refused."));
      });
    });
    q("rec-cancel").addEventListener("click", function () { cancelled = true; if (recorder && recorder.state !== "inactive") recorder.stop(); text.focus(); });
    q("rec-send").addEventListener("click", function () { cancelled = false; if (recorder && recorder.state !== "inactive") recorder.stop(); text.focus(); });
    recorderBox.addEventListener("keydown", function (e) { if (e.key === "Escape") q("rec-cancel").click(); });
    preview.addEventListener("keydown", function (e) { if (e.key === "Escape") q("preview-cancel").click(); });

    return { focus: function () { text.focus(); }, input: text };
  }

  // --- Page plumbing ----------------------------------------------------------------
  // The language switch submits on change (no inline handlers: the CSP forbids them).
  document.addEventListener("change", function (e) {
    if (e.target && e.target.matches && e.target.matches("select[data-autosubmit]")) e.target.form.submit();
  });

  // Phones: keep the composer above the on-screen keyboard.
  function trackViewport() {
    const vv = window.visualViewport;
    const set = function () {
      const h = vv ? vv.height : window.innerHeight;
      document.documentElement.style.setProperty("--app-height", h + "px");
    };
    set();
    if (vv) { vv.addEventListener("resize", set); vv.addEventListener("scroll", set); }
    window.addEventListener("resize", set);
  }
  trackViewport();

  function announce(text) {
    const live = document.getElementById("live");
    if (!live) return;
    const line = el("p", "", text);
    live.appendChild(line);
    while (live.childNodes.length > 5) live.removeChild(live.firstChild);
  }

  // A short visible message (errors, hints) that also reaches screen readers.
  function toast(text) {
    if (!text) return;
    let box = document.getElementById("toast");
    if (!box) {
      box = el("div", "toast");
      box.id = "toast";
      box.setAttribute("role", "alert");
      document.body.appendChild(box);
    }
    box.textContent = text;
    box.classList.add("is-shown");
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { box.classList.remove("is-shown"); }, 6000);
  }

  function scrollToEnd(list, force) {
    const near = list.scrollHeight - list.scrollTop - list.clientHeight < 160;
    if (force || near) list.scrollTop = list.scrollHeight;
  }

  window.chatdesk = {
    t: t, tf: tf, csrfToken: csrfToken, newClientId: newClientId, clock: clock, shortWhen: shortWhen,
    nowStamp: nowStamp, el: el, previewText: previewText, renderMessage: renderMessage, setStatus: setStatus,
    upload: upload, Outbox: Outbox, connectSocket: connectSocket, showConnection: showConnection,
    Composer: Composer, announce: announce, toast: toast, scrollToEnd: scrollToEnd, openLightbox: openLightbox,
  };
})();
