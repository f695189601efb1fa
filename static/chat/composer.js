/* chatdesk: the composer both pages share: text, photo (picker, paste, drop), voice notes.
 *
 * opts: {root, onText(text), onMedia(kind, url), onTyping(bool), onError(text),
 *        onStatus(text), canSend(): bool}
 */

import { gettext } from "./i18n.js";
import { limits } from "./page.js";
import { upload } from "./uploads.js";

const TYPING_EVERY_MS = 2500;
const TYPING_IDLE_MS = 4000;
const MAX_RECORDING_SECONDS = 300;

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

export function Composer(opts) {
  const root = opts.root;
  const q = function (role) { return root.querySelector('[data-role="' + role + '"]'); };
  const form = q("composer"), text = q("text"), fileInput = q("file");
  const preview = q("preview"), previewImg = q("preview-img"), previewName = q("preview-name");
  const progress = q("progress"), previewError = q("preview-error");
  const recorderBox = q("recorder"), recTime = q("rec-time");
  const dropHint = q("drop-hint");
  const canSend = function () { return !opts.canSend || opts.canSend(); };
  let pendingFile = null, previewUrl = null, uploading = false;
  let typingTimer = null, typingSent = 0;

  text.maxLength = limits.messageMaxChars;

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
    if (now - typingSent > TYPING_EVERY_MS) { typingSent = now; opts.onTyping(true); }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  });
  text.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    const value = text.value.trim();
    if (!value || !canSend()) return;
    opts.onText(value.slice(0, limits.messageMaxChars));
    text.value = "";
    autosize();
    stopTyping();
    text.focus();
  });

  // --- Photos ------------------------------------------------------------------------------
  function showPreview(file) {
    if (!file || !/^image\//.test(file.type)) {
      // Nothing of a previous photo stays: no name, no progress, nothing to send.
      pendingFile = null;
      if (previewUrl) URL.revokeObjectURL(previewUrl);
      previewUrl = null;
      previewImg.removeAttribute("src");
      previewImg.hidden = true;
      previewName.textContent = "";
      progress.hidden = true;
      progress.value = 0;
      q("preview-send").disabled = true;
      previewError.textContent = gettext("Only photos can be sent here (PNG, JPEG, GIF, WebP).");
      preview.hidden = false;
      q("preview-cancel").focus();
      return;
    }
    q("preview-send").disabled = false;
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
    if (!pendingFile || uploading || !canSend()) return;
    uploading = true;
    progress.hidden = false;
    previewError.textContent = "";
    const file = pendingFile;
    upload("image", file, file.name || "photo.png", function (pct) { progress.value = pct; })
      .then(function (url) {
        // The photo's size goes with it, so every list reserves its box before it loads.
        const size = previewImg.naturalWidth > 0 ? { width: previewImg.naturalWidth, height: previewImg.naturalHeight } : {};
        opts.onMedia("image", url, size);
        closePreview();
        text.focus();
      })
      .catch(function (err) { previewError.textContent = err.message; progress.hidden = true; })
      .then(function () { uploading = false; });
  });
  text.addEventListener("paste", function (e) {
    const files = (e.clipboardData && e.clipboardData.files) || [];
    if (files.length && /^image\//.test(files[0].type)) { e.preventDefault(); showPreview(files[0]); }
  });
  let dragDepth = 0;
  root.addEventListener("dragenter", function (e) {
    if (e.dataTransfer && Array.from(e.dataTransfer.types).indexOf("Files") >= 0) { dragDepth++; dropHint.hidden = false; }
  });
  root.addEventListener("dragleave", function () { dragDepth = Math.max(0, dragDepth - 1); if (!dragDepth) dropHint.hidden = true; });
  root.addEventListener("dragover", function (e) { e.preventDefault(); });
  root.addEventListener("drop", function (e) {
    e.preventDefault();
    dragDepth = 0;
    dropHint.hidden = true;
    if (e.dataTransfer && e.dataTransfer.files[0]) showPreview(e.dataTransfer.files[0]);
  });

  // --- Voice notes -------------------------------------------------------------------------
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
        // Browser WebM files carry no duration: send the length measured here.
        const duration = Math.round((Date.now() - started) / 100) / 10;
        const blob = new Blob(chunks, { type: mime });
        opts.onStatus(gettext("Sending the voice note…"));
        upload("audio", blob, "voice." + audioExtension(mime))
          .then(function (url) { opts.onStatus(""); opts.onMedia("audio", url, { duration: duration }); })
          .catch(function (err) { opts.onError(err.message); });
      });
      recorder.start(250);
      started = Date.now();
      recTime.textContent = "0:00";
      tick = setInterval(function () {
        const secs = (Date.now() - started) / 1000;
        recTime.textContent = formatSeconds(secs);
        if (secs >= MAX_RECORDING_SECONDS) q("rec-send").click();
      }, 250);
      form.hidden = true;
      recorderBox.hidden = false;
      q("rec-send").focus();
    }).catch(function () {
      opts.onError(gettext("No microphone, or permission to use it was refused."));
    });
  });
  q("rec-cancel").addEventListener("click", function () {
    cancelled = true;
    if (recorder && recorder.state !== "inactive") recorder.stop();
    text.focus();
  });
  q("rec-send").addEventListener("click", function () {
    cancelled = false;
    if (recorder && recorder.state !== "inactive") recorder.stop();
    text.focus();
  });
  recorderBox.addEventListener("keydown", function (e) { if (e.key === "Escape") q("rec-cancel").click(); });
  preview.addEventListener("keydown", function (e) { if (e.key === "Escape") q("preview-cancel").click(); });

  return { focus: function () { text.focus(); }, input: text };
}
