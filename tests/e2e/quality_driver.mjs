// Runs the room page's own quality logic (frontend/static/frontend/room/quality.js) for a
// Python peer: one JSON quality sample per stdin line in, one JSON decision per line out.
// The page's Fallback acts on an RTCPeerConnection; here its video sender is a stand-in that
// reports what the page would have done, and the Python peer does it on its aiortc call.
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

// quality.js is an ES module with no imports; a data: URL loads it as one, without a
// package.json next to it.
const source = readFileSync(process.argv[2], "utf8");
const { Fallback, level } = await import(`data:text/javascript;base64,${Buffer.from(source).toString("base64")}`);

const actions = [];
const sender = {
  track: { kind: "video" },
  getParameters: () => ({ encodings: [{}] }),
  setParameters: async (params) => actions.push({ max_bitrate: params.encodings[0].maxBitrate ?? null }),
};
const pc = { getSenders: () => [sender] };
const fallback = new Fallback((on) => actions.push({ audio_only: on }));

for await (const line of createInterface({ input: process.stdin })) {
  const sample = JSON.parse(line);
  const q = level(sample);
  await fallback.observe(pc, q);
  process.stdout.write(`${JSON.stringify({ level: q, step: fallback.step, actions: actions.splice(0) })}\n`);
}
