// The room socket (docs/signaling.md): hello/welcome, heartbeat, resync; the reconnect is
// socket.js's.
import { ReconnectingSocket } from "../socket.js";

export class Signaling extends EventTarget {
  constructor(path, getTicket) {
    super();
    this.lastRev = 0;
    this.socket = new ReconnectingSocket(path, {
      beforeOpen: getTicket ?? undefined, // async () => ticket (a guest); none with a session
      open: (ticket) => this.send(ticket ? { type: "hello", ticket } : { type: "hello" }),
      frame: (frame) => this.onFrame(frame),
      reconnecting: (detail) => this.stopBeat("reconnecting", detail),
      closed: (detail) => this.stopBeat("closed", detail),
    });
  }

  open() {
    return this.socket.open();
  }

  onFrame(frame) {
    if (frame.type === "welcome") {
      this.socket.settled();
      this.lastRev = frame.rev;
      clearInterval(this.beat);
      this.beat = setInterval(() => this.send({ type: "ping", t: Date.now() }), frame.heartbeat_s * 1000);
    }
    if (frame.type === "peer_joined" || frame.type === "peer_left") this.lastRev = Math.max(this.lastRev, frame.rev);
    if (frame.type === "pong" && frame.rev > this.lastRev) this.send({ type: "resync" });
    if (frame.type === "room") this.lastRev = frame.rev;
    this.dispatchEvent(new CustomEvent(frame.type, { detail: frame }));
  }

  stopBeat(type, detail) {
    clearInterval(this.beat);
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  send(frame) {
    return this.socket.send(frame);
  }

  close() {
    this.send({ type: "bye" });
    this.socket.close();
  }
}
