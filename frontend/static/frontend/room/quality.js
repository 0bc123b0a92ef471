// getStats → a quality level, reports to the server, and the automatic audio-only fallback.
// Thresholds after Jitsi's published ones, tuned on the emulated mountain link (issue 16,
// docs/decisions.md): its 300 ms / 5 % is poor, a 150 ms / 1 % day is good.
const POOR = { loss: 3, rtt: 400 };
const FAIR = { loss: 1.5, rtt: 250 };
// Loss is counted over the last WINDOW samples (one a second), not since the call began, so
// that a link that recovers is seen to recover.
const WINDOW = 6;
// Non-poor samples in a row before the fallback takes one step back up (hysteresis: a
// borderline link must not flap between video and audio only).
const RECOVER = 8;

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
  out.window = [...(previous?.window ?? []), { lost, received }].slice(-(WINDOW + 1));
  const first = out.window.length > 1 ? out.window[0] : { lost: 0, received: 0 };
  const dLost = lost - first.lost, dReceived = received - first.received;
  if (dReceived + dLost > 0) out.loss_pct = (100 * Math.max(0, dLost)) / (dReceived + Math.max(0, dLost));
  if (previous) out.bitrate_kbps = Math.max(0, ((out.bytes - previous.bytes) * 8) / (out.t - previous.t));
  return out;
}

export function level(s) {
  // A link that loses so much that no round trip is measured is still rated by its loss.
  if (!s || (s.rtt_ms === null && s.loss_pct === null)) return "unknown";
  if ((s.loss_pct ?? 0) > POOR.loss || (s.rtt_ms ?? 0) > POOR.rtt) return "poor";
  if (s.rtt_ms === null) return (s.loss_pct ?? 0) > FAIR.loss ? "fair" : "unknown";
  if ((s.loss_pct ?? 0) > FAIR.loss || s.rtt_ms > FAIR.rtt) return "fair";
  return "good";
}

// Poor for 3 samples: cap video at 150 kbps; still poor 3 more: drop video (audio only).
// Then RECOVER samples that are not poor: video back (still capped); RECOVER more: uncapped.
// Only what the fallback itself did is undone: a user's own audio-only stays.
export class Fallback {
  constructor(onAudioOnly) {
    this.poor = 0;
    this.better = 0;
    this.step = 0;
    this.onAudioOnly = onAudioOnly;
  }

  async observe(pc, q) {
    this.poor = q === "poor" ? this.poor + 1 : 0;
    this.better = q === "good" || q === "fair" ? this.better + 1 : 0;
    const sender = pc.getSenders().find((s) => s.track && s.track.kind === "video");
    if (this.poor >= 3 && this.step < 2) {
      this.poor = 0;
      this.step += 1;
      if (!sender) return;
      if (this.step === 1) await cap(sender, 150_000);
      else this.onAudioOnly(true);
    } else if (this.better >= RECOVER && this.step > 0) {
      this.better = 0;
      this.step -= 1;
      if (!sender) return;
      if (this.step === 1) this.onAudioOnly(false);
      else await cap(sender, undefined);
    }
  }
}

async function cap(sender, maxBitrate) {
  const params = sender.getParameters();
  params.encodings = params.encodings?.length ? params.encodings : [{}];
  if (maxBitrate === undefined) delete params.encodings[0].maxBitrate;
  else params.encodings[0].maxBitrate = maxBitrate;
  await sender.setParameters(params);
}
