// A specialist's pages (agenda, home) tell them when a patient of theirs is checked in: a
// chime, a count on the tab's title, a desktop notification, and the row updated in place.
// The events come from /ws/notifications/ (docs/signaling.md); the row is the server's own,
// fetched again, so what it shows passes the page's access check and audit (docs/decisions.md).
import { time } from "./format.js";
import { ReconnectingSocket } from "./socket.js";

const box = document.getElementById("alerts");
const chimeToggle = document.getElementById("chime-toggle");
const notifyAsk = document.getElementById("notify-ask");
const notifyBlocked = document.getElementById("notify-blocked");
const CHIME_KEY = "telehealth.alerts.chime";
const WAITING = new Set(["checked_in", "interrupted"]);
const title = document.title;
let unseen = 0;
let audio = null;

// --- the chime: two short tones made with WebAudio, no sound file to download ---------------

const chimeOn = () => localStorage.getItem(CHIME_KEY) !== "off";

function audioContext() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!audio && Context) audio = new Context();
  return audio;
}

function chime() {
  const context = chimeOn() && audioContext();
  if (!context) return;
  if (context.state === "suspended") context.resume().catch(() => {});
  const now = context.currentTime;
  [880, 1175].forEach((frequency, i) => {
    const at = now + i * 0.2;
    const tone = context.createOscillator();
    const gain = context.createGain();
    tone.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.3, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.6);
    tone.connect(gain).connect(context.destination);
    tone.start(at);
    tone.stop(at + 0.65);
  });
}

function showChime() {
  chimeToggle.setAttribute("aria-pressed", String(chimeOn()));
}

chimeToggle.addEventListener("click", () => {
  localStorage.setItem(CHIME_KEY, chimeOn() ? "off" : "on");
  showChime();
});
// A browser keeps an AudioContext silent until the user has acted on the page: make it at
// the first click or key, so the chime of a later check-in is heard.
for (const type of ["pointerdown", "keydown"]) {
  addEventListener(type, () => chimeOn() && audioContext()?.resume().catch(() => {}), { once: true });
}

// --- the tab's title: "(2) Lịch hẹn · …" until the page is looked at --------------------------

function showBadge() {
  document.title = unseen ? `(${unseen}) ${title}` : title;
}

function seen() {
  if (!unseen) return;
  unseen = 0;
  showBadge();
}

addEventListener("focus", seen);
addEventListener("pointerdown", seen);
addEventListener("keydown", seen);
document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && document.hasFocus() && seen());

// --- desktop notifications: asked for only from the button, after the explanation ------------

const canNotify = "Notification" in window;

function showPermission() {
  notifyAsk.hidden = !canNotify || Notification.permission !== "default";
  notifyBlocked.hidden = !canNotify || Notification.permission !== "denied";
}

document.getElementById("notify-allow").addEventListener("click", async () => {
  await Notification.requestPermission();
  showPermission();
});

// The notification may show on a screen others see: the station and the time, not the patient.
function notify(consult) {
  if (!canNotify || Notification.permission !== "granted") return;
  const body = [consult.station, time(consult.start)].filter(Boolean).join(" · ");
  const note = new Notification(box.dataset.notifyTitle, { body, tag: `checked-in-${consult.id}`, lang: "vi" });
  note.onclick = () => {
    window.focus();
    note.close();
  };
}

// --- the row: the server renders it again ----------------------------------------------------

const rowsOf = (id) => document.querySelectorAll(`tr[data-consultation="${CSS.escape(id)}"]`);

async function refresh(id) {
  if (!rowsOf(id).length) return;
  const response = await fetch(location.href, { headers: { Accept: "text/html" } });
  if (!response.ok) return;
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const fresh = page.querySelector(`tr[data-consultation="${CSS.escape(id)}"]`);
  for (const row of rowsOf(id)) {
    if (fresh) row.replaceWith(document.importNode(fresh, true));
  }
}

// --- the feed --------------------------------------------------------------------------------

function announce(consult) {
  chime();
  unseen += 1;
  showBadge();
  notify(consult);
}

let known = null; // ids waiting at the last snapshot; null until the first one
const socket = new ReconnectingSocket("/ws/notifications/", {
  reconnecting() {
    delete box.dataset.live;
  },
  frame(frame) {
    if (frame.type === "snapshot") {
      socket.settled();
      box.dataset.live = "true";
      const waiting = frame.waiting.filter((c) => WAITING.has(c.status));
      // After a reconnect, a check-in whose event was lost while the socket was down.
      for (const consult of known ? waiting.filter((c) => !known.has(c.id)) : []) {
        announce(consult);
        refresh(consult.id);
      }
      known = new Set(waiting.map((c) => c.id));
    } else if (frame.type === "consult_waiting" && frame.consultation) {
      known?.add(frame.consultation.id);
      announce(frame.consultation);
      refresh(frame.consultation.id);
    } else if (frame.type === "consult_status" && frame.consultation) {
      if (!WAITING.has(frame.consultation.status)) known?.delete(frame.consultation.id);
      refresh(frame.consultation.id);
    }
  },
});

showChime();
showPermission();
socket.open();
