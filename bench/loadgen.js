// Load generator for bench/run.py: holds real Socket.IO connections (websocket transport).
//
//   node loadgen.js '<json config>'
//
// mode "rate": `visitors` visitors join (spread over `urls`), one admin joins admin_room on
// the last url; then for each rate in `rates` the visitors send that many messages per
// second in all for `seconds`, and the admin measures send→receive latency of
// message_from_visitor. One JSON line per phase on stdout; stops after the first phase
// that misses (p99 > maxP99 or messages lost).
// With `gated`, each phase waits for a line on stdin ("waiting" is printed first), so that
// bench/run.py can run the phases of two generators in turn (a setup's and the relay's).
// mode "idle": `visitors` connections opened and held until stdin closes.
"use strict";

const { io } = require("socket.io-client");
const { performance } = require("perf_hooks");

const cfg = JSON.parse(process.argv[2]);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

for (const url of cfg.urls) {
  // The bench never loads anything but this machine.
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error("refusing to target " + url);
}

function connect(url, cookie) {
  return new Promise((resolve, reject) => {
    const socket = io(url, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      timeout: 30000,
      extraHeaders: cookie ? { Cookie: cookie } : {},
    });
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => reject(err));
  });
}

async function inBatches(n, size, make) {
  const all = [];
  for (let i = 0; i < n; i += size) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + size); j++) batch.push(make(j));
    all.push(...(await Promise.all(batch)));
  }
  return all;
}

function watchLag(phase) {
  let expected = performance.now() + 10;
  return setInterval(() => {
    const now = performance.now();
    phase.lags.push(Math.max(0, now - expected));
    expected = now + 10;
  }, 10);
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function rateMode() {
  const admin = await connect(cfg.urls[cfg.urls.length - 1], cfg.adminCookie);
  const joined = await admin.timeout(10000).emitWithAck("admin_join", {});
  if (!joined.ok) throw new Error("admin_join refused: " + JSON.stringify(joined));
  let phase = null;
  admin.on("message_from_visitor", (m) => {
    const sent = Number((m.content_text || "").split(" ")[0]);
    if (phase && sent >= phase.start) {
      const now = performance.now();
      phase.latencies.push(now - sent);
      const slot = Math.floor((now - phase.start) / 500);
      if (!phase.worst[slot] || phase.worst[slot][1] < now - sent) phase.worst[slot] = [slot * 500, now - sent];
    }
  });
  const visitors = await inBatches(cfg.visitors, 50, async (i) => {
    const socket = await connect(cfg.urls[i % cfg.urls.length], null);
    const ack = await socket.timeout(30000).emitWithAck("join", { display_name: "bench " + i });
    if (!ack.ok) throw new Error("join refused: " + JSON.stringify(ack));
    return { socket, threadId: ack.thread_id };
  });
  out({ event: "connected", visitors: visitors.length });

  let next = 0;
  const gate = cfg.gated ? lines() : null;
  for (const rate of cfg.rates) {
    if (gate) {
      out({ event: "waiting" });
      if ((await gate.next()).done) break;
    }
    await sleep(500);
    phase = { start: performance.now(), latencies: [], sent: 0, errors: 0, lags: [], worst: [] };
    out({ event: "phase_start", rate });
    phase.wallStart = Date.now();
    // The generator's own event-loop lag (a 10 ms timer's lateness): a delivery that lands
    // while this process is busy or paused is timed late by that much, on every setup.
    const lagTimer = watchLag(phase);
    const tickMs = 5;
    const endAt = phase.start + cfg.seconds * 1000;
    let due = 0;
    let last = phase.start;
    while (performance.now() < endAt) {
      const now = performance.now();
      due += ((now - last) / 1000) * rate;
      last = now;
      while (due >= 1) {
        due -= 1;
        const v = visitors[next++ % visitors.length];
        phase.sent++;
        v.socket
          .timeout(10000)
          .emitWithAck("message_to_admin", {
            thread_id: v.threadId, type: "text", text: `${performance.now()} bench`,
          })
          .then((ack) => { if (!ack.ok) phase.errors++; }, () => { phase.errors++; });
      }
      await sleep(tickMs);
    }
    const sentAt = performance.now();
    // Let the last messages arrive (at most 2 s).
    while (phase.latencies.length < phase.sent && performance.now() - sentAt < 2000) await sleep(20);
    clearInterval(lagTimer);
    const lat = phase.latencies.slice().sort((a, b) => a - b);
    const lags = phase.lags.slice().sort((a, b) => a - b);
    const result = {
      event: "phase_end", rate, seconds: cfg.seconds, started_at: phase.wallStart / 1000, sent: phase.sent, received: lat.length,
      errors: phase.errors, achieved_rate: phase.sent / cfg.seconds,
      p50: percentile(lat, 50), p99: percentile(lat, 99),
      generator_lag_p99: percentile(lags, 99), generator_lag_max: lags.length ? lags[lags.length - 1] : null,
      // The slowest delivery of each half second (ms since the phase started, latency):
      // one pause shows as one spike, a backlog as a ramp.
      worst: phase.worst.map(([at, ms]) => [Math.round(at), Math.round(ms * 10) / 10]),
    };
    out(result);
    phase = null;
    if (cfg.stopOnMiss && (result.p99 === null || result.p99 > cfg.maxP99 || result.received < result.sent * 0.99
        || result.errors > 0 || result.achieved_rate < rate * 0.95)) break;
  }
  for (const v of visitors) v.socket.disconnect();
  admin.disconnect();
}

async function* lines() {
  // One value per line on stdin; done when stdin closes.
  let buffered = "";
  for await (const chunk of process.stdin) {
    buffered += chunk;
    let end;
    while ((end = buffered.indexOf("\n")) >= 0) {
      buffered = buffered.slice(end + 1);
      yield true;
    }
  }
}

async function idleMode() {
  const sockets = await inBatches(cfg.visitors, 100, (i) => connect(cfg.urls[i % cfg.urls.length], null));
  out({ event: "ready", connections: sockets.filter((s) => s.connected).length });
  process.stdin.resume();
  await new Promise((r) => process.stdin.once("end", r));
  for (const s of sockets) s.disconnect();
}

(cfg.mode === "idle" ? idleMode() : rateMode()).then(
  () => process.exit(0),
  (err) => { out({ event: "error", error: String(err && err.stack || err) }); process.exit(1); },
);
