// The agenda hears of an earlier slot on /ws/notifications/ (docs/signaling.md): the notice
// links to the reloaded page, whose offers block takes the slot in one click.
import { ReconnectingSocket } from "../socket.js";

const notice = document.getElementById("waitlist-live");
const socket = new ReconnectingSocket("/ws/notifications/", {
  frame(frame) {
    if (frame.type === "snapshot") socket.settled();
    else if (frame.type === "waitlist_offer") notice.hidden = false;
  },
});
socket.open();
