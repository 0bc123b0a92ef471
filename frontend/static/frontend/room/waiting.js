// The specialist's live waiting list, fed by /ws/notifications/ (docs/signaling.md).
import { dateTime } from "../format.js";
import { ReconnectingSocket } from "../socket.js";

const cfg = JSON.parse(document.getElementById("waiting-config").textContent);
const list = document.getElementById("waiting-list");
const empty = document.getElementById("waiting-empty");
const waiting = new Map();
const WAITING = new Set(["checked_in", "interrupted"]);

function render() {
  list.replaceChildren(
    ...[...waiting.values()].map((c) => {
      const li = document.createElement("li");
      li.dataset.consultation = c.id;
      const a = document.createElement("a");
      a.href = `/room/${c.id}/prejoin/`;
      a.textContent = `${c.patient} — ${c.station}`;
      const meta = document.createElement("span");
      meta.className = "muted";
      meta.textContent = ` ${dateTime(c.start)} · ${cfg.strings[c.status] || c.status}`;
      li.append(a, meta);
      return li;
    }),
  );
  empty.hidden = waiting.size > 0;
}

function apply(c) {
  if (WAITING.has(c.status)) waiting.set(c.id, c);
  else waiting.delete(c.id);
}

const socket = new ReconnectingSocket("/ws/notifications/", {
  frame(frame) {
    if (frame.type === "snapshot") {
      socket.settled();
      waiting.clear();
      frame.waiting.forEach(apply);
    } else if (frame.consultation) {
      apply(frame.consultation);
    }
    render();
  },
});
socket.open();
