/* chatdesk: the one wrapper around localStorage.
 *
 * A browser may refuse storage altogether: Safari's private mode and some privacy
 * settings throw on every write (or on any access), and a full quota throws too. Then
 * the value lives in memory for as long as the page is open, and every read looks there
 * first, so a queued message or a thread id behaves the same, only without surviving a
 * reload.
 */

const memory = new Map();

function local() {
  try {
    return window.localStorage || null;
  } catch (e) {
    return null; // access itself refused (storage disabled for this site)
  }
}

export function get(key) {
  if (memory.has(key)) return memory.get(key);
  const store = local();
  if (!store) return null;
  try {
    return store.getItem(key);
  } catch (e) {
    return null;
  }
}

/* Returns true when the value was stored for good, false when it is kept in memory only. */
export function set(key, value) {
  const text = String(value);
  const store = local();
  try {
    if (!store) throw new Error("no storage");
    store.setItem(key, text);
    memory.delete(key);
    return true;
  } catch (e) {
    memory.set(key, text);
    return false;
  }
}

export function remove(key) {
  memory.delete(key);
  const store = local();
  try {
    if (store) store.removeItem(key);
  } catch (e) {
    memory.set(key, null); // the stored copy could not be removed: hide it
  }
}

export function getJSON(key, fallback) {
  const raw = get(key);
  if (raw === null || raw === undefined) return fallback;
  try {
    const value = JSON.parse(raw);
    return value === null ? fallback : value;
  } catch (e) {
    return fallback;
  }
}

export function setJSON(key, value) {
  return set(key, JSON.stringify(value));
}
