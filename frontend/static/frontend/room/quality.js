// getStats → a quality level, reports to the server, and the automatic audio-only fallback.
const POOR = { loss: 8, rtt: 700 };

export async function sample(pc, previous) {
  const stats = await pc.getStats();
  const out = { rtt_ms: null, loss_pct: null, bitrate_kbps: null, framesDecoded: 0, bytes: 0, t: performance.now() };
  let lost = 0, received = 0;
  // getStats may reuse report objects: copy the numbers out at once.
  stats.forEach((r) => {
    if (r.type === "candidate-pair" && (r.nominated || r.state === "succeeded") && r.currentRoundTripTime !== undefined) out.rtt_ms = r.currentRoundTripTime * 1000;
    if (r.type === "inbound-rtp") {
      lost += r.packetsLost || 0;
      received += r.packetsReceived || 0;
      out.bytes += r.bytesReceived || 0;
      if (r.kind === "video") out.framesDecoded = r.framesDecoded || 0;
    }
  });
  if (received + lost > 0) out.loss_pct = (100 * lost) / (received + lost);
  if (previous) out.bitrate_kbps = Math.max(0, ((out.bytes - previous.bytes) * 8) / (out.t - previous.t));
  return out;
}

export function level(s) {
  if (!s || s.rtt_ms === null) return "unknown";
  if ((s.loss_pct ?? 0) > POOR.loss || s.rtt_ms > POOR.rtt) return "poor";
  if ((s.loss_pct ?? 0) > 2 || s.rtt_ms > 300) return "fair";
  return "good";
}

// Poor for 3 samples: cap video at 150 kbps; still poor 3 more: drop video (audio only).
export class Fallback {
  constructor(onAudioOnly) {
    this.poor = 0;
    this.step = 0;
    this.onAudioOnly = onAudioOnly;
  }

  async observe(pc, q) {
    this.poor = q === "poor" ? this.poor + 1 : 0;
    if (this.poor < 3 || this.step >= 2) return;
    this.poor = 0;
    this.step += 1;
    const sender = pc.getSenders().find((s) => s.track && s.track.kind === "video");
    if (!sender) return;
    if (this.step === 1) {
      const params = sender.getParameters();
      params.encodings = params.encodings?.length ? params.encodings : [{}];
      params.encodings[0].maxBitrate = 150_000;
      await sender.setParameters(params);
    } else {
      this.onAudioOnly(true);
    }
  }
}
