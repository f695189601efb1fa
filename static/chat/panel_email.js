/* The panel's line under the visitor's name: the email they left for replies while they
 * are away (thread payload `email`, live through thread_updated with change "email"). */

import { gettext, interpolate } from "./i18n.js";

export function PanelEmail(opts) {
  const line = opts.line;

  function paint(th) {
    if (!line) return;
    const email = th && th.email;
    line.hidden = !email;
    line.textContent = email ? interpolate(gettext("Email: %(email)s"), { email: email }) : "";
  }

  opts.socket.on("thread_updated", function (d) {
    if (!d || d.change !== "email") return;
    const th = opts.threads.get(d.thread_id);
    if (!th) return;
    th.email = d.email;
    if (d.thread_id === opts.current()) paint(th);
  });

  return { paint: paint };
}
