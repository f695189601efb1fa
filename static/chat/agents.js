/* chatdesk: named agents on the pages (issue 13).
 *
 * - authorLine(agent): who answered, above an admin reply ("Ayşe", with her picture or
 *   her initials), on both pages; messages.js adds it to every admin message with `agent`.
 * - Peers: in the panel, which other agents are viewing or replying to the open thread
 *   ("Mert is replying…"), from the agent_viewing / agent_typing events.
 * Names go on the page with textContent; pictures only from safe URLs.
 */

import { gettext, interpolate } from "./i18n.js";
import { el, safeUrl } from "./util.js";

const TYPING_SHOWN_MS = 6000;

export function initials(name) {
  const words = String(name || "").trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? words[0][0] + words[words.length - 1][0] : (words[0] || "?").slice(0, 2);
  return letters.toLocaleUpperCase();
}

/* A small round picture of the agent, or their initials on a colour of their own. */
export function avatar(agent) {
  const src = safeUrl(agent.avatar_url);
  if (src) {
    const img = el("img", "agent-avatar");
    img.src = src;
    img.alt = "";
    img.width = 20;
    img.height = 20;
    return img;
  }
  const span = el("span", "agent-avatar agent-initials", initials(agent.name));
  span.setAttribute("aria-hidden", "true");
  span.dataset.hue = String((Number(agent.id) || 0) % 6);
  return span;
}

export function authorLine(agent) {
  const line = el("div", "author");
  line.appendChild(avatar(agent));
  line.appendChild(el("span", "author-name", agent.name));
  return line;
}

/* Put "who answered" on an admin message's bubble (once). */
export function addAuthor(li, m) {
  if (!li || !m || m.sender !== "admin" || !m.agent || !m.agent.name) return;
  if (li.querySelector(".author")) return;
  li.classList.add("has-author");
  li.insertBefore(authorLine(m.agent), li.firstChild);
}

/* The panel: other agents in the open thread. box: the element that says it. */
export class Peers {
  constructor(box) {
    this.box = box;
    this.current = null;
    this.viewing = new Map(); // thread id -> Map(agent id -> agent)
    this.typing = new Map(); // "thread:agent" -> {agent, until}
    const self = this;
    setInterval(function () { self.render(); }, 2000);
  }

  open(threadId) { this.current = threadId; this.render(); }

  onViewing(d) {
    if (!d || !d.agent) return;
    this.viewing.forEach(function (agents) { agents.delete(d.agent.id); });
    if (d.viewing) {
      if (!this.viewing.has(d.thread_id)) this.viewing.set(d.thread_id, new Map());
      this.viewing.get(d.thread_id).set(d.agent.id, d.agent);
    } else {
      this.typing.delete(d.thread_id + ":" + d.agent.id);
    }
    this.render();
  }

  onTyping(d) {
    if (!d || !d.agent) return;
    const key = d.thread_id + ":" + d.agent.id;
    if (d.typing) this.typing.set(key, { agent: d.agent, thread: d.thread_id, until: Date.now() + TYPING_SHOWN_MS });
    else this.typing.delete(key);
    this.render();
  }

  render() {
    if (!this.box) return;
    const now = Date.now();
    const here = this.current;
    const typing = [];
    const self = this;
    this.typing.forEach(function (t, key) {
      if (t.until < now) { self.typing.delete(key); return; }
      if (t.thread === here) typing.push(t.agent);
    });
    const typingIds = new Set(typing.map(function (a) { return a.id; }));
    const viewers = [];
    (this.viewing.get(here) || new Map()).forEach(function (agent) {
      if (!typingIds.has(agent.id)) viewers.push(agent);
    });
    const lines = [];
    typing.forEach(function (agent) {
      lines.push(interpolate(gettext("%(name)s is replying…"), { name: agent.name }));
    });
    if (viewers.length) {
      const names = viewers.map(function (a) { return a.name; }).join(", ");
      lines.push(interpolate(gettext("Also here: %(names)s"), { names: names }));
    }
    const text = lines.join(" · ");
    if (this.box.textContent !== text) this.box.textContent = text;
    this.box.hidden = !text;
    this.box.classList.toggle("is-typing", typing.length > 0);
  }
}
