// The network test: a call to the server's aiortc echo peer (/ws/precall/, ≤ 30 s) with the
// tracks it is given. It never stops them: the pre-join screen's preview stays on.
import { socketUrl } from "../socket.js";

const TEST_MS = 8000;
// Thresholds after Jitsi's pre-call test: RTT, loss, received bitrate.
export const LIMITS = { pass: { rtt: 300, loss: 2, kbps: 250 }, warn: { rtt: 800, loss: 10, kbps: 80 } };

export function verdictFor(r) {
  if (!r.camera || !r.microphone || !r.framesDecoded) return "fail";
  const within = (l) => r.rtt <= l.rtt && r.loss <= l.loss && r.kbps >= l.kbps;
  if (within(LIMITS.pass)) return "pass";
  return within(LIMITS.warn) ? "warn" : "fail";
}

function gathered(pc) {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") return resolve();
    pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && resolve());
    setTimeout(resolve, 3000);
  });
}

async function inbound(pc) {
  const out = { bytes: 0, lost: 0, received: 0, framesDecoded: 0 };
  (await pc.getStats()).forEach((r) => {
    if (r.type !== "inbound-rtp") return;
    out.bytes += r.bytesReceived || 0;
    out.lost += r.packetsLost || 0;
    out.received += r.packetsReceived || 0;
    if (r.kind === "video") out.framesDecoded = r.framesDecoded || 0;
  });
  return out;
}

// Sends `tracks` to the echo peer and measures what comes back; onBusy() if the server is full.
export async function networkTest(tracks, { onBusy } = {}) {
  const result = {
    camera: tracks.some((t) => t.kind === "video"),
    microphone: tracks.some((t) => t.kind === "audio"),
    rtt: Infinity, loss: 100, kbps: 0, framesDecoded: 0,
  };
  const ws = new WebSocket(socketUrl("/ws/precall/")); // one timed attempt: never reconnected
  const rtts = [];
  let pc;
  const done = new Promise((resolve) => {
    ws.onopen = () => ws.send(JSON.stringify({ type: "hello" }));
    ws.onclose = () => resolve();
    ws.onmessage = async (e) => {
      const frame = JSON.parse(e.data);
      if (frame.type === "welcome") {
        pc = new RTCPeerConnection({ iceServers: frame.ice_servers });
        const stream = new MediaStream(tracks);
        tracks.forEach((t) => pc.addTrack(t, stream));
        const dc = pc.createDataChannel("ping");
        dc.onopen = () => { const id = setInterval(() => dc.readyState === "open" ? dc.send(`ping ${performance.now()}`) : clearInterval(id), 500); };
        dc.onmessage = (m) => rtts.push(performance.now() - Number(String(m.data).slice(5)));
        await pc.setLocalDescription(await pc.createOffer());
        await gathered(pc);
        ws.send(JSON.stringify({ type: "offer", to: "echo", sdp: pc.localDescription.sdp }));
      } else if (frame.type === "answer") {
        await pc.setRemoteDescription({ type: "answer", sdp: frame.sdp });
        const first = await new Promise((r) => setTimeout(async () => r(await inbound(pc)), 1500));
        setTimeout(async () => {
          const last = await inbound(pc);
          const sent = last.received - first.received + last.lost - first.lost;
          result.loss = sent > 0 ? (100 * (last.lost - first.lost)) / sent : 100;
          result.kbps = ((last.bytes - first.bytes) * 8) / (TEST_MS - 1500);
          result.framesDecoded = last.framesDecoded;
          result.rtt = rtts.length ? rtts.sort((a, b) => a - b)[Math.floor(rtts.length / 2)] : Infinity;
          ws.send(JSON.stringify({ type: "bye" }));
          resolve();
        }, TEST_MS - 1500);
      } else if (frame.type === "error" && frame.code === "busy") {
        onBusy?.();
      }
    };
  });
  await Promise.race([done, new Promise((r) => setTimeout(r, 30000))]);
  pc?.close();
  if (ws.readyState <= WebSocket.OPEN) ws.close();
  return { ...result, verdict: verdictFor(result) };
}
