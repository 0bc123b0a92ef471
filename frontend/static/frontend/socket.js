// The one reconnecting WebSocket of the pages (docs/signaling.md "Close codes"). The codes
// come from the server (consults.realtime.close.CloseCode, rendered into every page by
// base.html), never retyped here.
const config = JSON.parse(document.getElementById("socket-config").textContent);
export const CLOSE = Object.freeze(config.close); // by name: CLOSE.NORMAL, CLOSE.RATE_LIMITED, …
const FINAL = new Set(config.final); // closed with one of these, a page stops reconnecting

export const socketUrl = (path) => `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;

// Jittered exponential backoff: 0.5 s, 1 s, 2 s … capped at 15 s, ×(0.5–1.5), so the
// stations behind one link that dropped do not all come back in the same second.
export const backoff = (attempt) => Math.min(15000, 500 * 2 ** attempt) * (0.5 + Math.random());

// on: {beforeOpen?: async () => value, open?(value), frame?(frame), reconnecting?({code, delay}),
// closed?({code})}. The page calls settled() when the server has accepted it (its first
// state frame): only then does the backoff start again from 0.5 s, so a server that accepts
// and then refuses (a rate limit) is not hammered.
export class ReconnectingSocket {
  constructor(path, on = {}) {
    this.path = path;
    this.on = on;
    this.attempt = 0;
    this.stopped = false;
    this.ws = null;
    this.retryAfter = 0; // seconds the server asked us to wait (docs/signaling.md "Limits")
  }

  async open() {
    const value = this.on.beforeOpen ? await this.on.beforeOpen() : undefined;
    if (this.stopped) return;
    const ws = new WebSocket(socketUrl(this.path));
    this.ws = ws;
    ws.onopen = () => this.on.open?.(value);
    ws.onmessage = (e) => {
      const frame = JSON.parse(e.data);
      // A rate limit's error names the cool-down: reconnecting sooner is refused again.
      if (frame.type === "error" && Number.isFinite(frame.retry_after)) this.retryAfter = frame.retry_after;
      this.on.frame?.(frame);
    };
    ws.onclose = (e) => this.onClose(e.code);
  }

  settled() {
    this.attempt = 0;
  }

  onClose(code) {
    if (this.stopped || FINAL.has(code)) {
      this.on.closed?.({ code });
      return;
    }
    const delay = Math.max(backoff(this.attempt++), this.retryAfter * 1000);
    this.retryAfter = 0;
    this.on.reconnecting?.({ code, delay });
    setTimeout(() => this.open(), delay);
  }

  get isOpen() {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  send(frame) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  close(code = CLOSE.NORMAL) {
    this.stopped = true;
    this.ws?.close(code);
  }
}
