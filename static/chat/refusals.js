/* chatdesk: what the pages do with a refusal, decided by its stable `code`, never by the
 * English text. Answers look like {"ok": false, "error": "...", "code": "..."} (socket
 * acks) or {"success": false, "error": "...", "code": "..."} (HTTP); `error` is already
 * in the reader's language and is what the page shows. */

import { gettext } from "./i18n.js";

/* Worth sending again as it is, a little later: the server or the network had a moment. */
export const RETRY_LATER = new Set(["rate_limited", "temporarily_unavailable", "server_error"]);

/* The visitor's thread is gone (cleared, deleted, or the session forgot it): open a new one. */
export const THREAD_LOST = new Set(["unknown_thread", "not_your_thread"]);

/* The display name was refused: back to the name step. */
export const NAME_REFUSED = new Set(["name_required", "name_too_long"]);

/* Sign-in needed again. */
export const SIGNED_OUT = new Set(["admin_required"]);

/* Seconds to wait before retrying: the server's retry_after, else `fallback`. */
export function retryAfter(answer, fallback) {
  const value = answer && Number(answer.retry_after);
  return Number.isFinite(value) && value > 0 ? Math.ceil(value) : fallback;
}

/* The text to show for a refusal: the server's (translated) words, else `fallback`. */
export function refusalText(answer, fallback) {
  if (answer && typeof answer.error === "string" && answer.error) return answer.error;
  return fallback || gettext("Something went wrong; please try again.");
}
