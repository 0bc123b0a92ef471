// The specialist's live waiting list, fed by /ws/notifications/ (docs/signaling.md).
const cfg = JSON.parse(document.getElementById("waiting-config").textContent);
const list = document.getElementById("waiting-list");
const empty = document.getElementById("waiting-empty");
const waiting = new Map();
const WAITING = new Set(["checked_in", "interrupted"]);
let attempt = 0;

function time(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function render() {
  list.replaceChildren(
    ...[...waiting.values()].map((c) => {
      const li = document.createElement("li");
      li.dataset.consultation = c.id;
      const a = document.createElement("a");
      a.href = `/room/${c.id}/`;
      a.textContent = `${c.patient} — ${c.station}`;
      const meta = document.createElement("span");
      meta.className = "muted";
      meta.textContent = ` ${time(c.start)} · ${cfg.strings[c.status] || c.status}`;
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

function open() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/ws/notifications/`);
  ws.onmessage = (e) => {
    const frame = JSON.parse(e.data);
    if (frame.type === "snapshot") {
      attempt = 0;
      waiting.clear();
      frame.waiting.forEach(apply);
    } else if (frame.consultation) {
      apply(frame.consultation);
    }
    render();
  };
  ws.onclose = (e) => {
    if (e.code === 4401) return;
    setTimeout(open, Math.min(15000, 500 * 2 ** attempt++) * (0.5 + Math.random()));
  };
}

open();
