/* chatdesk: photo and voice-note uploads (XMLHttpRequest: fetch has no upload progress).
 * A refusal is an Error whose message is the server's translated text and whose `code`
 * is the refusal code (file_too_large, unsupported_image, rate_limited…). */

import { gettext, interpolate } from "./i18n.js";
import { limits } from "./page.js";
import { refusalText } from "./refusals.js";
import { csrfToken } from "./util.js";

function refused(text, code, answer) {
  const error = new Error(text);
  error.code = code;
  error.answer = answer || {};
  return error;
}

export function tooLargeText() {
  const mb = Math.floor(limits.uploadMaxBytes / (1024 * 1024));
  return interpolate(gettext("The file is too large (at most %(mb)s MB)."), { mb: mb });
}

export function upload(kind, blob, filename, onProgress) {
  if (blob.size > limits.uploadMaxBytes) return Promise.reject(refused(tooLargeText(), "file_too_large"));
  if (!blob.size) return Promise.reject(refused(gettext("The file is empty."), "empty_file"));
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
      if (xhr.status === 200 && body.url) { resolve(body.url); return; }
      // A proxy's own 413 or 429 page has no JSON: say it from the status.
      let fallback = gettext("The upload failed.");
      if (xhr.status === 413) fallback = tooLargeText();
      else if (xhr.status === 429) fallback = gettext("Too many uploads; wait a minute and try again.");
      const code = body.code || (xhr.status === 413 ? "file_too_large" : xhr.status === 429 ? "rate_limited" : "");
      reject(refused(refusalText(body, fallback), code, body));
    });
    xhr.addEventListener("error", function () {
      reject(refused(gettext("The upload failed: no connection."), "network"));
    });
    xhr.send(form);
  });
}
