/* chatdesk: the Socket.IO connection, with the contract's options, and a page that never
 * gives up on it.
 *
 * Socket.IO reconnects by itself when the network or the server goes away. It does NOT
 * when the server refused the connection (connect_error with err.data.code, e.g.
 * too_many_connections or temporarily_unavailable) or closed it on purpose ("io server
 * disconnect", e.g. a sign-out elsewhere): then this module retries, with a back-off of
 * 1 s doubling up to 30 s and jitter, so a crowd of refused pages does not come back at
 * the same moment. onState(state) hears "online", "reconnecting" or "offline".
 */

const REFUSED_FIRST_DELAY_MS = 1000;
const REFUSED_MAX_DELAY_MS = 30000;
// Failed reconnection attempts (server unreachable) before the page says "offline".
const OFFLINE_AFTER_ATTEMPTS = 4;

export function connectSocket(onState) {
  const socket = window.io({
    transports: ["websocket", "polling"],
    reconnection: true,
    reconnectionAttempts: Infinity,
    reconnectionDelay: 1000,
    reconnectionDelayMax: 10000,
    randomizationFactor: 0.5,
    timeout: 30000,
    upgrade: true,
    rememberUpgrade: true,
  });
  let refusals = 0;
  let timer = null;

  function connectNow() {
    timer = null;
    if (!socket.connected) socket.connect();
  }
  function retrySoon(delay) {
    clearTimeout(timer);
    timer = setTimeout(connectNow, delay);
  }
  // Half the back-off plus a random part of the other half: 0.5–1 s, 1–2 s, … 15–30 s.
  function retryAfterRefusal() {
    const base = Math.min(REFUSED_MAX_DELAY_MS, REFUSED_FIRST_DELAY_MS * Math.pow(2, refusals));
    refusals += 1;
    retrySoon(base / 2 + Math.random() * (base / 2));
  }

  socket.on("connect", function () {
    clearTimeout(timer);
    timer = null;
    refusals = 0;
    onState("online");
  });
  socket.on("disconnect", function (reason) {
    onState("reconnecting");
    if (reason === "io server disconnect") retryAfterRefusal();
  });
  socket.on("connect_error", function () {
    // Still active: the server was unreachable and Socket.IO's own reconnection goes on.
    // Inactive: the server refused (err.data.code says why); Socket.IO gave up, we do not.
    if (socket.connected || socket.active) return;
    onState("reconnecting");
    retryAfterRefusal();
  });
  socket.io.on("reconnect_attempt", function (attempt) {
    onState(attempt >= OFFLINE_AFTER_ATTEMPTS || navigator.onLine === false ? "offline" : "reconnecting");
  });
  window.addEventListener("online", function () { if (!socket.connected) retrySoon(200); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && !socket.connected) retrySoon(200);
  });
  return socket;
}
