/* chatdesk panel: the desk's life cycle (issue 13) — the views Open / Mine / Unassigned /
 * Resolved with their counts, and the open thread's bar: status, "Assigned to", Claim,
 * Resolve / Reopen, Block, with keyboard shortcuts (Alt+Shift+1…4, Alt+Shift+C, R, A, B).
 *
 * The server is the source of truth: actions are socket events (claim_thread,
 * assign_thread, resolve_thread, reopen_thread, block_visitor), and every panel hears
 * `thread_updated` from admin_room, so all open panels stay in step. Unread counts are
 * the agent's own, kept on the server: a `thread_updated` with change "read" from this
 * agent (another browser of theirs) clears the count here too.
 *
 * opts: {threads: Map, current(): id|null, render(), reload(), onRead(threadId),
 *        socket, toast(text), announce(text), onSignedOut()}
 */

import { gettext, interpolate } from "./i18n.js";
import { SIGNED_OUT, refusalText } from "./refusals.js";
import * as storage from "./storage.js";

const VIEW_KEY = "chatdesk.admin.view";
const VIEWS = ["open", "mine", "unassigned", "resolved"];
export const LIFE_CYCLE_FIELDS = ["status", "assignee", "first_response_at", "resolved_at", "blocked_until", "blocked_until_iso", "state_version"];

export function DeskViews(opts) {
  const viewsBox = document.getElementById("desk-views");
  const stateChip = document.getElementById("desk-state");
  const assignSelect = document.getElementById("desk-assignee");
  const claimBtn = document.getElementById("desk-claim");
  const resolveBtn = document.getElementById("desk-resolve");
  const blockBtn = document.getElementById("desk-block");
  const blockDialog = document.getElementById("block-dialog");
  let view = storage.getJSON(VIEW_KEY, "open");
  if (VIEWS.indexOf(view) < 0) view = "open";
  let me = null;
  let agents = [];
  let countsTimer = null;

  function isMine(th) { return !!(me && th.assignee && th.assignee.id === me.id); }

  /* Does the thread belong in the chosen view (as the server's view= decides)? */
  function inView(th) {
    const status = th.status || "open";
    if (view === "resolved") return status === "resolved";
    if (status !== "open") return false;
    if (view === "unassigned") return !th.assignee;
    if (view === "mine") return isMine(th);
    return true;
  }

  function absorb(th, data) {
    LIFE_CYCLE_FIELDS.forEach(function (k) { if (k in data) th[k] = data[k]; });
  }

  // --- Counts and the agents list (GET /api/desk) ---------------------------------------------
  function paintCounts(counts) {
    VIEWS.forEach(function (v) {
      const span = viewsBox.querySelector('[data-count="' + v + '"]');
      const n = counts && Number(counts[v]);
      span.textContent = Number.isFinite(n) ? String(n) : "";
    });
  }
  function loadDesk() {
    return fetch("/api/desk", { credentials: "same-origin" })
      .then(function (r) {
        if (r.status === 401 || r.status === 403) { opts.onSignedOut(); return null; }
        return r.ok ? r.json() : null;
      })
      .then(function (d) {
        if (!d) return;
        me = d.me || null;
        agents = Array.isArray(d.agents) ? d.agents : [];
        paintCounts(d.counts);
        paintHead();
        opts.render();
      })
      .catch(function () { /* offline: the next change or reconnect reloads */ });
  }
  /* Counts change with threads' states; ask once a burst of changes settles. */
  function refreshCounts() {
    clearTimeout(countsTimer);
    countsTimer = setTimeout(loadDesk, 1000);
  }

  function paintViews() {
    viewsBox.querySelectorAll(".view-btn").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.view === view));
    });
  }
  function chooseView(next) {
    if (VIEWS.indexOf(next) < 0 || next === view) return;
    view = next;
    storage.setJSON(VIEW_KEY, view);
    paintViews();
    opts.render();
    opts.reload();
  }
  viewsBox.addEventListener("click", function (e) {
    const b = e.target.closest(".view-btn");
    if (b) chooseView(b.dataset.view);
  });

  // --- The open thread's bar -------------------------------------------------------------------
  function agentLabel(agent) { return agent ? (me && agent.id === me.id ? interpolate(gettext("%(name)s (me)"), { name: agent.name }) : agent.name) : ""; }

  function paintAssignees(th) {
    const wanted = th.assignee ? String(th.assignee.id) : "";
    const options = [{ value: "", label: gettext("Nobody") }];
    const listed = agents.slice();
    if (th.assignee && !listed.some(function (a) { return a.id === th.assignee.id; })) listed.push(th.assignee);
    listed.forEach(function (a) { options.push({ value: String(a.id), label: agentLabel(a) }); });
    const same = assignSelect.options.length === options.length && options.every(function (o, i) {
      return assignSelect.options[i].value === o.value && assignSelect.options[i].textContent === o.label;
    });
    if (!same) {
      assignSelect.textContent = "";
      options.forEach(function (o) {
        const opt = document.createElement("option");
        opt.value = o.value;
        opt.textContent = o.label;
        assignSelect.appendChild(opt);
      });
    }
    if (document.activeElement !== assignSelect) assignSelect.value = wanted;
  }

  function paintHead() {
    const id = opts.current();
    const th = id && opts.threads.get(id);
    if (!th) return;
    const resolved = th.status === "resolved";
    stateChip.dataset.status = resolved ? "resolved" : "open";
    stateChip.textContent = resolved ? gettext("Resolved") : gettext("Open");
    resolveBtn.textContent = resolved ? gettext("Reopen") : gettext("Resolve");
    resolveBtn.title = (resolved ? gettext("Reopen") : gettext("Resolve")) + " (Alt+Shift+R)";
    resolveBtn.classList.toggle("primary", !resolved);
    resolveBtn.classList.toggle("ghost", resolved);
    claimBtn.hidden = !me || isMine(th);
    claimBtn.disabled = !!th.assignee && !isMine(th);
    claimBtn.title = claimBtn.disabled
      ? interpolate(gettext("%(name)s has this conversation; use Assigned to"), { name: th.assignee.name })
      : gettext("Claim") + " (Alt+Shift+C)";
    paintAssignees(th);
    const blocked = !!th.blocked_until_iso && Date.parse(th.blocked_until_iso) > Date.now();
    blockBtn.textContent = blocked ? gettext("Blocked") : gettext("Block");
    blockBtn.disabled = !!blocked;
    if (blocked) blockBtn.title = interpolate(gettext("Blocked until %(when)s"), { when: new Date(th.blocked_until_iso).toLocaleString() });
    else blockBtn.title = gettext("Block visitor") + " (Alt+Shift+B)";
  }

  /* The list row: who has the conversation (or "Resolved"), beside the visitor's name. */
  function paintItem(th) {
    if (!th.el) return;
    let tag = th.el.deskTag;
    if (!tag) {
      tag = th.el.deskTag = document.createElement("span");
      tag.className = "t-desk";
      th.el.name.after(tag);
    }
    let text = "";
    if (th.status === "resolved") text = gettext("Resolved");
    else if (th.assignee) text = isMine(th) ? gettext("Mine") : th.assignee.name;
    tag.textContent = text;
    tag.hidden = !text;
    tag.dataset.status = th.status || "open";
    // Screen readers hear it with the row's state (admin.js writes that just before).
    if (text && th.el.state) th.el.state.textContent += text + " ";
  }

  // --- Actions ----------------------------------------------------------------------------------
  function act(event, extra, done) {
    const id = opts.current();
    if (!id || !opts.socket.connected) { opts.toast(gettext("No connection to the server. Check your network and try again.")); return; }
    const payload = Object.assign({ thread_id: id }, extra || {});
    opts.socket.timeout(15000).emit(event, payload, function (err, ack) {
      if (err || !ack) { opts.toast(gettext("Please try again in a moment.")); return; }
      if (!ack.ok) {
        if (SIGNED_OUT.has(ack.code)) { opts.onSignedOut(); return; }
        opts.toast(refusalText(ack));
        return;
      }
      if (ack.thread) apply(ack.thread.id, ack.thread);
      if (done) done(ack);
    });
  }
  function claim() { if (!claimBtn.hidden && !claimBtn.disabled) act("claim_thread", null, function () { opts.announce(gettext("You claimed this conversation.")); }); }
  function toggleResolved() {
    const th = opts.threads.get(opts.current());
    if (!th) return;
    if (th.status === "resolved") act("reopen_thread", null, function () { opts.announce(gettext("Conversation reopened.")); });
    else act("resolve_thread", null, function () { opts.announce(gettext("Conversation resolved.")); });
  }
  function block() {
    if (blockBtn.disabled || !opts.current()) return;
    blockDialog.returnValue = "cancel";
    blockDialog.addEventListener("close", function done() {
      blockDialog.removeEventListener("close", done);
      if (blockDialog.returnValue !== "ok") return;
      const chosen = blockDialog.querySelector("input[name=duration]:checked");
      act("block_visitor", { duration: chosen ? chosen.value : "1h" }, function () { opts.announce(gettext("Visitor blocked.")); });
    });
    blockDialog.showModal();
  }
  claimBtn.addEventListener("click", claim);
  resolveBtn.addEventListener("click", toggleResolved);
  blockBtn.addEventListener("click", block);
  assignSelect.addEventListener("change", function () {
    const value = assignSelect.value;
    act("assign_thread", { agent_id: value ? Number(value) : null });
  });

  // Alt+Shift, not Alt alone: browsers keep Alt+digit (tabs) and Alt+letter (menus).
  document.addEventListener("keydown", function (e) {
    if (!e.altKey || !e.shiftKey || e.ctrlKey || e.metaKey) return;
    const digit = /^Digit([1-4])$/.exec(e.code);
    if (digit) { e.preventDefault(); chooseView(VIEWS[Number(digit[1]) - 1]); return; }
    if (!opts.current()) return;
    if (e.code === "KeyC") { e.preventDefault(); claim(); }
    else if (e.code === "KeyR") { e.preventDefault(); toggleResolved(); }
    else if (e.code === "KeyA") { e.preventDefault(); assignSelect.focus(); }
    else if (e.code === "KeyB") { e.preventDefault(); block(); }
  });

  // --- Live: thread_updated from admin_room -------------------------------------------------------
  function apply(id, data) {
    const th = opts.threads.get(id);
    if (!th) { if (data.status && data.change !== "read") opts.reload(); return; }
    absorb(th, data);
    opts.render();
  }
  opts.socket.on("thread_updated", function (d) {
    if (d.change === "read") {
      if (me && d.reader === me.id) opts.onRead(d.thread_id);
      return;
    }
    if (!("status" in d)) return; // other changes (visitor context, email) have their own modules
    apply(d.thread_id, d);
    refreshCounts();
    if (d.thread_id === opts.current() && d.by && (!me || d.by.id !== me.id)) {
      const what = {
        claimed: gettext("%(name)s claimed this conversation."),
        assigned: gettext("%(name)s assigned this conversation."),
        unassigned: gettext("%(name)s unassigned this conversation."),
        resolved: gettext("%(name)s resolved this conversation."),
        reopened: gettext("%(name)s reopened this conversation."),
        blocked: gettext("%(name)s blocked this visitor."),
      }[d.change];
      if (what) opts.announce(interpolate(what, { name: d.by.name }));
    }
  });
  // What changes the counts (a visitor's message to a resolved thread comes as thread_updated).
  ["thread_created", "thread_deleted", "all_cleared"].forEach(function (name) {
    opts.socket.on(name, refreshCounts);
  });

  paintViews();
  return {
    inView: inView,
    absorb: absorb,
    paintHead: paintHead,
    paintItem: paintItem,
    load: loadDesk,
    refreshCounts: refreshCounts,
    viewParam: function () { return "&view=" + encodeURIComponent(view); },
    emptyText: function () {
      return {
        open: gettext("No open conversations. New ones appear here as visitors write."),
        mine: gettext("No open conversations are assigned to you."),
        unassigned: gettext("Every open conversation has someone on it."),
        resolved: gettext("No resolved conversations."),
      }[view];
    },
  };
}
