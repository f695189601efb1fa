/* chatdesk: one short beep (Web Audio; browsers only allow it after a click on the page). */

let context = null;

/* Call from a click handler: creates the audio context the browser then lets us use. */
export function unlock() {
  try {
    context = context || new (window.AudioContext || window.webkitAudioContext)();
    if (context.state === "suspended") context.resume();
    return true;
  } catch (e) {
    return false; // no audio in this browser
  }
}

export function beep() {
  if (!context && !unlock()) return;
  const osc = context.createOscillator();
  const gain = context.createGain();
  osc.type = "sine";
  osc.frequency.value = 880;
  gain.gain.setValueAtTime(0.0001, context.currentTime);
  gain.gain.exponentialRampToValueAtTime(0.2, context.currentTime + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, context.currentTime + 0.35);
  osc.connect(gain).connect(context.destination);
  osc.start();
  osc.stop(context.currentTime + 0.4);
}
