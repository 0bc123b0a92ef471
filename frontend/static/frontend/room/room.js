// The consult room page: local/remote video, controls, quality, reconnect (docs/signaling.md),
// and the end of a call: every local track stopped, the ended screen (docs/room.md "Pages").
import { number } from "../format.js";
import { PeerCall } from "./call.js";
import { openMedia, useSpeaker } from "./devices.js";
import { Fallback, level, sample } from "./quality.js";
import { Signaling } from "./signaling.js";

const cfg = JSON.parse(document.getElementById("room-config").textContent);
const T = cfg.strings;
const $ = (id) => document.getElementById(id);
const calls = new Map();
const state = { iceServers: [], audioOnly: false, audioOnlySince: null, audioOnlyS: 0, last: new Map(), quality: {}, level: "unknown" };
const timers = [];
let stream;
let over = false;

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

// --- what this side tells the other, and what it hears back ----------------------------
const own = () => ({ mic: !pressed($("mute")), camera: !pressed($("camera")) && !state.audioOnly, level: state.level });
const tellAll = () => calls.forEach((call) => call.tell(own()));

function peerState(s) {
  $("peer-mic").hidden = s.mic !== false;
  $("peer-camera").hidden = s.camera !== false;
  // Weak on their side only: when this side is poor too, the own quality label says it.
  if (!$("peer-banner").dataset.left) show("peer-banner", s.level === "poor" && state.level !== "poor" ? T.peer_weak : "");
}

function iceState(s) {
  $("ice").textContent = s;
  if (s === "disconnected" || s === "failed") show("banner", T.reconnecting);
  else if (s === "connected" || s === "completed") show("banner", "");
}

function callFor(peer, polite) {
  let call = calls.get(peer);
  if (!call) {
    call = new PeerCall({
      peer, polite, iceServers: state.iceServers, stream, signaling,
      onTrack: (s) => { $("remote").srcObject = s; },
      onState: iceState,
      onPeerState: peerState,
    });
    call.channel.addEventListener("open", () => call.tell(own()));
    calls.set(peer, call);
  }
  return call;
}

function dropCall(peer) {
  calls.get(peer)?.close();
  calls.delete(peer);
  state.last.delete(peer);
  if (calls.size) return;
  // No call left: nothing measures, so no stale word stays on screen.
  showQuality("unknown", {});
  $("ice").textContent = "—";
  $("peer-mic").hidden = true;
  $("peer-camera").hidden = true;
}

function peerLeft(left) {
  const banner = $("peer-banner");
  if (left) banner.dataset.left = "1";
  else delete banner.dataset.left;
  show("peer-banner", left ? T.peer_left : "");
}

// --- the signaling events --------------------------------------------------------------
let welcomes = 0;
signaling.addEventListener("welcome", ({ detail }) => {
  welcomes += 1;
  show("banner", "");
  for (const peer of [...calls.keys()]) dropCall(peer); // a new connection: fresh calls
  state.iceServers = detail.ice_servers;
  setStatus(detail.consultation.status);
  $("waiting").hidden = detail.peers.length > 0;
});
signaling.addEventListener("peer_joined", ({ detail }) => {
  $("waiting").hidden = true;
  peerLeft(false);
  if (!detail.polite) callFor(detail.peer, false); // impolite side offers (negotiationneeded)
});
signaling.addEventListener("peer_left", ({ detail }) => {
  dropCall(detail.peer);
  $("waiting").hidden = calls.size > 0;
  // A replaced connection comes straight back (peer_joined follows): not "left".
  if (!calls.size && detail.reason !== "replaced") peerLeft(true);
});
signaling.addEventListener("offer", ({ detail }) => callFor(detail.from, true).onDescription("offer", detail.sdp));
signaling.addEventListener("answer", ({ detail }) => calls.get(detail.from)?.onDescription("answer", detail.sdp));
signaling.addEventListener("candidate", ({ detail }) => calls.get(detail.from)?.addCandidate(detail.candidate));
signaling.addEventListener("restart", ({ detail }) => calls.get(detail.from)?.offer(true));
signaling.addEventListener("resync", ({ detail }) => calls.get(detail.peer)?.restartIce());
signaling.addEventListener("status", ({ detail }) => setStatus(detail.consultation.status));
signaling.addEventListener("ended", () => finish({ title: T.ended, rejoin: false }));
signaling.addEventListener("error", ({ detail }) => console.warn("room error", detail));
signaling.addEventListener("reconnecting", () => show("banner", T.reconnecting));
signaling.addEventListener("closed", ({ detail }) => {
  // A socket that ends by itself (the consult ended, opened elsewhere, access gone).
  const title = T[`close_${detail.code}`] || T.ended;
  finish({ title, rejoin: !cfg.noRejoin.includes(detail.code) && $("status").dataset.status !== "completed" });
});

function setStatus(status) {
  $("status").dataset.status = status;
  $("status").textContent = T[status] || status;
}

// --- quality -------------------------------------------------------------------------
function showQuality(q, s) {
  state.level = q;
  $("quality").dataset.level = q;
  $("quality-word").textContent = T[`q_${q}`];
  $("rtt").textContent = s.rtt_ms == null ? "—" : `${number(s.rtt_ms)} ms`;
  $("loss").textContent = s.loss_pct == null ? "—" : `${number(s.loss_pct, 1)} %`;
  $("bitrate").textContent = s.bitrate_kbps == null ? "—" : `${number(s.bitrate_kbps)} kbps`;
}

function setAudioOnly(on) {
  state.audioOnly = on;
  if (on) state.audioOnlySince = performance.now();
  else if (state.audioOnlySince) {
    state.audioOnlyS += (performance.now() - state.audioOnlySince) / 1000;
    state.audioOnlySince = null;
  }
  for (const t of stream.getVideoTracks()) t.enabled = !on && !pressed($("camera"));
  $("audio-only").setAttribute("aria-pressed", String(on));
  tellAll();
}
const fallback = new Fallback(setAudioOnly);

async function measure() {
  for (const [peer, call] of calls) {
    const s = await sample(call.pc, state.last.get(peer));
    state.last.set(peer, s);
    state.quality = s;
    const q = level(s);
    if (calls.has(peer)) showQuality(q, s); // the call may have ended during getStats
    call.tell(own());
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

// --- controls: the label says what a press does, aria-pressed what is on ---------------
const pressed = (button) => button.getAttribute("aria-pressed") === "true";

function toggle(button, kind) {
  const off = !pressed(button);
  const tracks = kind === "audio" ? stream.getAudioTracks() : stream.getVideoTracks();
  for (const t of tracks) t.enabled = !off && (kind === "audio" || !state.audioOnly);
  button.setAttribute("aria-pressed", String(off));
  button.textContent = T[`${kind}_${off ? "on" : "off"}`];
  tellAll();
}

// --- the end of a call ---------------------------------------------------------------
// Ended by the specialist, left by this side, closed by the server or the page unloading:
// every local track is stopped (the camera light goes out), every call closed.
function finish({ title, rejoin }) {
  if (over) return;
  over = true;
  $("room").dataset.live = "";
  timers.forEach(clearInterval);
  for (const peer of [...calls.keys()]) dropCall(peer);
  stream?.getTracks().forEach((t) => t.stop());
  $("local").srcObject = null;
  $("remote").srcObject = null;
  signaling.close();
  show("banner", "");
  peerLeft(false);
  $("room").classList.add("over");
  $("ended").hidden = false;
  $("ended-title").textContent = title;
  $("rejoin").hidden = !rejoin;
  $("ended-title").focus();
}

const leave = () => finish({ title: T.left, rejoin: true });
const live = () => !!stream && !over;

// Leaving the page by a link or a form (the top bar) asks first; closing the tab too.
function guard(e) {
  if (!live() || e.defaultPrevented) return;
  const link = e.type === "click" ? e.target.closest("a[href]") : null;
  if (e.type === "click" && (!link || link.target === "_blank")) return;
  if (confirm(T.confirm_leave)) leave();
  else e.preventDefault();
}
document.addEventListener("click", guard);
document.addEventListener("submit", (e) => e.target.closest("#room") || guard(e));
addEventListener("beforeunload", (e) => {
  if (!live()) return;
  e.preventDefault();
  e.returnValue = T.confirm_leave;
});
addEventListener("pagehide", () => live() && leave());

async function start() {
  // The devices chosen on the pre-join screen (devices.js), or the defaults.
  try {
    stream = await openMedia();
  } catch {
    stream = await openMedia(undefined, { video: false }).catch(() => new MediaStream());
    show("banner", T.no_camera);
  }
  useSpeaker($("remote"));
  if (over) return stream.getTracks().forEach((t) => t.stop());
  $("room").dataset.live = "1";
  $("local").srcObject = stream;
  $("mute").onclick = (e) => toggle(e.currentTarget, "audio");
  $("camera").onclick = (e) => toggle(e.currentTarget, "video");
  $("audio-only").onclick = () => setAudioOnly(!state.audioOnly);
  if ($("end")) $("end").onclick = () => confirm(T.confirm_end) && signaling.send({ type: "end" });
  $("leave").onclick = leave;
  timers.push(setInterval(measure, 2000), setInterval(report, 10000));
  await signaling.open();
}
$("rejoin").onclick = () => location.reload();

// For browser tests and support staff: the inbound video figures of the first call.
window.roomDebug = {
  welcomes: () => welcomes,
  banner: () => ($("banner").hidden ? "" : $("banner").textContent),
  peerBanner: () => ($("peer-banner").hidden ? "" : $("peer-banner").textContent),
  ended: () => !$("ended").hidden,
  stateOpen: () => calls.size > 0 && [...calls.values()].every((c) => c.channel.readyState === "open"),
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
