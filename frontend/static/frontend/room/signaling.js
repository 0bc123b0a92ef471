// The room socket (docs/signaling.md): hello/welcome, heartbeat, reconnect with jittered backoff.
const FINAL = new Set([1000, 1009, 4401, 4403, 4404, 4409]);

export class Signaling extends EventTarget {
  constructor(path, getTicket) {
    super();
    this.path = path;
    this.getTicket = getTicket; // async () => ticket or null (session cookie)
    this.attempt = 0;
    this.stopped = false;
    this.lastRev = 0;
  }

  async open() {
    const ticket = this.getTicket ? await this.getTicket() : null;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}${this.path}`);
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify(ticket ? { type: "hello", ticket } : { type: "hello" }));
    ws.onmessage = (e) => this.onFrame(JSON.parse(e.data));
    ws.onclose = (e) => this.onClose(e.code);
  }

  onFrame(frame) {
    if (frame.type === "welcome") {
      this.attempt = 0;
      this.lastRev = frame.rev;
      clearInterval(this.beat);
      this.beat = setInterval(() => this.send({ type: "ping", t: Date.now() }), frame.heartbeat_s * 1000);
    }
    if (frame.type === "peer_joined" || frame.type === "peer_left") this.lastRev = Math.max(this.lastRev, frame.rev);
    if (frame.type === "pong" && frame.rev > this.lastRev) this.send({ type: "resync" });
    if (frame.type === "room") this.lastRev = frame.rev;
    this.dispatchEvent(new CustomEvent(frame.type, { detail: frame }));
  }

  onClose(code) {
    clearInterval(this.beat);
    if (this.stopped || FINAL.has(code)) {
      this.dispatchEvent(new CustomEvent("closed", { detail: { code } }));
      return;
    }
    // Jittered exponential backoff: 0.5 s, 1 s, 2 s … capped at 15 s, ×(0.5–1.5).
    const delay = Math.min(15000, 500 * 2 ** this.attempt++) * (0.5 + Math.random());
    this.dispatchEvent(new CustomEvent("reconnecting", { detail: { code, delay } }));
    setTimeout(() => this.open(), delay);
  }

  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  close() {
    this.stopped = true;
    this.send({ type: "bye" });
    this.ws?.close(1000);
  }
}
