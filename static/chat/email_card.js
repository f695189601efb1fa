/* The visitor's email, asked for inline in the conversation (never a blocking form): when
 * the desk is away, or when nobody answered within EMAIL_ASK_AFTER_SECONDS. Editable; the
 * server validates it (set_email, code email_invalid). Also "Email me this conversation"
 * (POST /api/email/transcript). */

import { gettext, interpolate } from "./i18n.js";
import { refusalText } from "./refusals.js";
import { csrfToken } from "./util.js";

export function EmailCard(opts) {
  const card = opts.card;
  const form = card.querySelector("form");
  const input = card.querySelector("input[type=email]");
  const error = card.querySelector(".field-error");
  const prompt = card.querySelector(".email-card-prompt");
  const saved = card.querySelector(".email-card-saved");
  const savedText = card.querySelector(".email-card-address");
  const change = card.querySelector(".email-card-change");
  const dismiss = card.querySelector(".email-card-dismiss");
  const transcriptBtn = opts.transcriptButton;
  let enabled = false, email = null, asked = false, dismissed = false, editing = false;
  let askAfter = 120, waitTimer = null, pendingEmail = null, awayNow = false;

  function draw() {
    const show = enabled && (editing || email || (asked && !dismissed));
    card.hidden = !show;
    if (transcriptBtn) transcriptBtn.hidden = !enabled;
    if (!show) return;
    const showForm = editing || !email;
    form.hidden = !showForm;
    saved.hidden = showForm;
    prompt.textContent = awayNow
      ? gettext("We're away right now. Leave your email and we'll send our reply there.")
      : gettext("No one has answered yet. Leave your email and we'll send our reply there too.");
    if (email) savedText.textContent = interpolate(gettext("Replies will also reach you at %(email)s."), { email: email });
  }

  function ask() { if (!asked) { asked = true; draw(); } }

  function save(value) {
    const threadId = opts.threadId();
    if (!threadId || !opts.socket.connected) { pendingEmail = value; return; }
    opts.socket.timeout(10000).emit("set_email", { thread_id: threadId, email: value }, function (err, ack) {
      if (err || !ack) { error.textContent = gettext("Not saved: the connection is down. Try again."); return; }
      if (!ack.ok) {
        editing = true;
        input.value = value;
        draw();
        error.textContent = refusalText(ack);
        input.focus();
        return;
      }
      error.textContent = "";
      email = ack.email;
      editing = false;
      draw();
      if (email) opts.announce(interpolate(gettext("Replies will also reach you at %(email)s."), { email: email }));
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    const value = input.value.trim();
    if (!value) { error.textContent = gettext("Please enter a valid email address."); input.focus(); return; }
    save(value);
  });
  change.addEventListener("click", function () { editing = true; input.value = email || ""; draw(); input.focus(); });
  dismiss.addEventListener("click", function () { dismissed = true; editing = false; draw(); });
  if (transcriptBtn) transcriptBtn.addEventListener("click", function () {
    if (!email) { editing = true; asked = true; dismissed = false; draw(); input.focus(); return; }
    fetch("/api/email/transcript", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ thread_id: opts.threadId() }),
    }).then(function (r) { return r.json().catch(function () { return {}; }); }).then(function (body) {
      if (body && body.success) {
        opts.notice(interpolate(gettext("We're sending this conversation to %(email)s."), { email: email }), "info");
      } else {
        opts.notice(refusalText(body || {}, gettext("The email could not be sent.")), "error");
      }
    }).catch(function () { opts.notice(gettext("The email could not be sent."), "error"); });
  });

  return {
    joined: function (ack) {
      enabled = !!ack.email_enabled;
      email = ack.email || null;
      if (typeof ack.email_ask_after_seconds === "number") askAfter = ack.email_ask_after_seconds;
      if (pendingEmail && !email) { const value = pendingEmail; pendingEmail = null; save(value); }
      draw();
    },
    setEmailAtStart: function (value) { pendingEmail = value || null; },
    availability: function (state) {
      awayNow = !state.available;
      if (awayNow) ask(); else draw();
    },
    visitorWrote: function () {
      if (waitTimer !== null) return;
      waitTimer = setTimeout(function () { waitTimer = null; ask(); }, askAfter * 1000);
    },
    answered: function () {
      clearTimeout(waitTimer);
      waitTimer = null;
      // "No one has answered yet" is no longer true; an ask because the desk is away
      // still holds, and so does a form the visitor is filling in.
      if (asked && !awayNow && !email && !editing) { asked = false; draw(); }
    },
    changed: function (value) { email = value || null; draw(); },
  };
}
