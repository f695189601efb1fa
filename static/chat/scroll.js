/* chatdesk: the newest message stays in view.
 *
 * A list that is at its bottom stays there while photos and audio players lay out (a
 * ResizeObserver re-pins after every change of size), and when a message arrives. A
 * reader who scrolled up on purpose is left where they are: a "New messages ↓" pill
 * appears and jumps down. The list is focusable and scrolls with PageUp/PageDown/Home/End.
 */

import { gettext } from "./i18n.js";
import { el } from "./util.js";

const NEAR_BOTTOM_PX = 48;

export class Pinner {
  constructor(listEl) {
    this.el = listEl;
    this.pinned = true;
    this.pill = el("button", "new-pill", gettext("New messages ↓"));
    this.pill.type = "button";
    this.pill.hidden = true;
    const self = this;
    this.pill.addEventListener("click", function () { self.toEnd(); self.el.focus({ preventScroll: true }); });
    listEl.insertAdjacentElement("afterend", this.pill);
    listEl.addEventListener("scroll", function () {
      self.pinned = self.atBottom();
      if (self.pinned) self.pill.hidden = true;
    }, { passive: true });
    if (window.ResizeObserver) {
      this.observer = new ResizeObserver(function () { if (self.pinned) self.el.scrollTop = self.el.scrollHeight; });
      this.observer.observe(listEl);
    }
    // Photos and players that finish loading grow their bubble: re-pin (load does not bubble).
    listEl.addEventListener("load", function () { self.settle(); }, true);
    listEl.addEventListener("loadedmetadata", function () { self.settle(); }, true);
    listEl.tabIndex = 0;
    listEl.addEventListener("keydown", function (e) { self.key(e); });
  }

  atBottom() { return this.el.scrollHeight - this.el.scrollTop - this.el.clientHeight <= NEAR_BOTTOM_PX; }

  /* Watch a new bubble's size (a photo or player laying out). */
  watch(node) { if (this.observer && node) this.observer.observe(node); }

  settle() { if (this.pinned) this.el.scrollTop = this.el.scrollHeight; }

  toEnd() {
    this.pinned = true;
    this.pill.hidden = true;
    this.el.scrollTop = this.el.scrollHeight;
  }

  /* Something was added: follow it when at the bottom (or when it is the reader's own),
   * else offer the pill. */
  added(mine) {
    if (mine || this.pinned) this.toEnd();
    else this.pill.hidden = false;
  }

  key(e) {
    if (e.target !== this.el) return;
    const page = Math.max(40, this.el.clientHeight - 40);
    const moves = { PageDown: page, PageUp: -page, ArrowDown: 40, ArrowUp: -40 };
    if (e.key === "Home") this.el.scrollTop = 0;
    else if (e.key === "End") this.toEnd();
    else if (e.key in moves) this.el.scrollTop += moves[e.key];
    else return;
    e.preventDefault();
  }
}
