/* The visitor page opened from the "continue the conversation" link of an email
 * (/c/<token> redirects to /?thread=<id>&name=<name>): that conversation becomes this
 * browser's, before visitor.js reads what it remembers. The server already put the thread
 * in this browser's session; the address bar is cleaned so a shared URL carries nothing. */

import * as storage from "./storage.js";

// The same keys as visitor.js.
const THREAD_KEY = "chatdesk.thread_id";
const NAME_KEY = "chatdesk.name";

(function takeResumeLink() {
  const params = new URLSearchParams(window.location.search);
  const thread = params.get("thread");
  const name = params.get("name");
  if (!thread || !/^[0-9a-f-]{32,36}$/i.test(thread)) return;
  storage.set(THREAD_KEY, thread);
  if (name) storage.set(NAME_KEY, name);
  params.delete("thread");
  params.delete("name");
  const query = params.toString();
  window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : "") + window.location.hash);
})();
