// The agenda hears of an earlier slot on /ws/notifications/ (docs/signaling.md): the notice
// links to the reloaded page, whose offers block takes the slot in one click.
const notice = document.getElementById("waitlist-live");
let attempt = 0;

function open() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/ws/notifications/`);
  ws.onmessage = (e) => {
    const frame = JSON.parse(e.data);
    if (frame.type === "snapshot") attempt = 0;
    else if (frame.type === "waitlist_offer") notice.hidden = false;
  };
  ws.onclose = (e) => {
    if (e.code === 4401) return;
    setTimeout(open, Math.min(15000, 500 * 2 ** attempt++) * (0.5 + Math.random()));
  };
}

open();
