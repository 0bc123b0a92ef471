// The consult room page: local/remote video, controls, quality, reconnect (docs/signaling.md).
import { PeerCall } from "./call.js";
import { Fallback, level, sample } from "./quality.js";
import { Signaling } from "./signaling.js";

const cfg = JSON.parse(document.getElementById("room-config").textContent);
const $ = (id) => document.getElementById(id);
const calls = new Map();
const state = { iceServers: [], audioOnly: false, audioOnlySince: null, audioOnlyS: 0, last: new Map(), quality: {} };
let stream;

function show(id, text) {
  const el = $(id);
  el.textContent = text || "";
  el.hidden = !text;
}

async function guestTicket() {
  const name = sessionStorage.getItem("guest-name") || $("guest-name").value.trim();
  sessionStorage.setItem("guest-name", name);
  const r = await fetch("/api/v1/room/guest-ticket/", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token: cfg.guestToken, display_name: name }),
  });
  if (!r.ok) throw new Error((await r.json()).message);
  return (await r.json()).ticket;
}

const signaling = new Signaling(`/ws/consultations/${cfg.consultation}/`, cfg.guestToken ? guestTicket : null);

function callFor(peer, polite) {
  let call = calls.get(peer);
  if (!call) {
    call = new PeerCall({
      peer, polite, iceServers: state.iceServers, stream, signaling,
      onTrack: (s) => { $("remote").srcObject = s; },
      onState: (s) => { $("ice").textContent = s; },
    });
    calls.set(peer, call);
  }
  return call;
}

function dropCall(peer) {
  calls.get(peer)?.close();
  calls.delete(peer);
  state.last.delete(peer);
}

let welcomes = 0;
signaling.addEventListener("welcome", ({ detail }) => {
  welcomes += 1;
  show("banner", "");
  for (const peer of [...calls.keys()]) dropCall(peer); // a new connection: fresh calls
  state.iceServers = detail.ice_servers;
  $("status").textContent = cfg.strings[detail.consultation.status] || detail.consultation.status;
  $("waiting").hidden = detail.peers.length > 0;
});
signaling.addEventListener("peer_joined", ({ detail }) => {
  $("waiting").hidden = true;
  if (!detail.polite) callFor(detail.peer, false); // impolite side offers (negotiationneeded)
});
signaling.addEventListener("peer_left", ({ detail }) => {
  dropCall(detail.peer);
  $("waiting").hidden = calls.size > 0;
});
signaling.addEventListener("offer", ({ detail }) => callFor(detail.from, true).onDescription("offer", detail.sdp));
signaling.addEventListener("answer", ({ detail }) => calls.get(detail.from)?.onDescription("answer", detail.sdp));
signaling.addEventListener("candidate", ({ detail }) => calls.get(detail.from)?.addCandidate(detail.candidate));
signaling.addEventListener("restart", ({ detail }) => calls.get(detail.from)?.offer(true));
signaling.addEventListener("resync", ({ detail }) => calls.get(detail.peer)?.restartIce());
signaling.addEventListener("status", ({ detail }) => {
  $("status").textContent = cfg.strings[detail.consultation.status] || detail.consultation.status;
});
signaling.addEventListener("ended", () => show("banner", cfg.strings.ended));
signaling.addEventListener("error", ({ detail }) => console.warn("room error", detail));
signaling.addEventListener("reconnecting", () => show("banner", cfg.strings.reconnecting));
signaling.addEventListener("closed", ({ detail }) => {
  for (const peer of [...calls.keys()]) dropCall(peer);
  show("banner", cfg.strings[`close_${detail.code}`] || cfg.strings.ended);
});

function setAudioOnly(on) {
  state.audioOnly = on;
  if (on) state.audioOnlySince = performance.now();
  else if (state.audioOnlySince) {
    state.audioOnlyS += (performance.now() - state.audioOnlySince) / 1000;
    state.audioOnlySince = null;
  }
  for (const t of stream.getVideoTracks()) t.enabled = !on;
  $("audio-only").setAttribute("aria-pressed", String(on));
}
const fallback = new Fallback(setAudioOnly);

async function measure() {
  for (const [peer, call] of calls) {
    const s = await sample(call.pc, state.last.get(peer));
    state.last.set(peer, s);
    state.quality = s;
    const q = level(s);
    $("quality").dataset.level = q;
    $("quality").textContent = cfg.strings[`q_${q}`];
    await fallback.observe(call.pc, q);
  }
}

function report() {
  const s = state.quality;
  const extra = state.audioOnlySince ? (performance.now() - state.audioOnlySince) / 1000 : 0;
  signaling.send({
    type: "quality",
    rtt_ms: s.rtt_ms ?? null, loss_pct: s.loss_pct ?? null, bitrate_kbps: s.bitrate_kbps ?? null,
    audio_only_s: Math.round(state.audioOnlyS + extra), video: !state.audioOnly,
  });
}

function toggle(button, kind) {
  const tracks = kind === "audio" ? stream.getAudioTracks() : stream.getVideoTracks();
  const off = button.getAttribute("aria-pressed") !== "true";
  for (const t of tracks) t.enabled = !off;
  button.setAttribute("aria-pressed", String(off));
}

async function start() {
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
  } catch {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true }).catch(() => new MediaStream());
    show("banner", cfg.strings.no_camera);
  }
  $("local").srcObject = stream;
  $("mute").onclick = (e) => toggle(e.currentTarget, "audio");
  $("camera").onclick = (e) => toggle(e.currentTarget, "video");
  $("audio-only").onclick = () => setAudioOnly(!state.audioOnly);
  if ($("end")) $("end").onclick = () => confirm(cfg.strings.confirm_end) && signaling.send({ type: "end" });
  $("leave").onclick = () => signaling.close();
  setInterval(measure, 2000);
  setInterval(report, 10000);
  await signaling.open();
}

// For browser tests and support staff: the inbound video figures of the first call.
window.roomDebug = {
  welcomes: () => welcomes,
  banner: () => ($("banner").hidden ? "" : $("banner").textContent),
  async inboundVideo() {
    const call = [...calls.values()][0];
    if (!call) return null;
    const s = await sample(call.pc);
    return { framesDecoded: s.framesDecoded, bytesReceived: s.bytes };
  },
};

if (cfg.guestToken && !sessionStorage.getItem("guest-name")) {
  $("guest-form").hidden = false;
  $("guest-form").onsubmit = (e) => {
    e.preventDefault();
    $("guest-form").hidden = true;
    start();
  };
} else {
  start();
}
