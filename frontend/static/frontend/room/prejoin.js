// The pre-join screen (docs/room.md "Pages"): the camera preview, the camera, microphone and
// speaker choice (remembered: devices.js), a live microphone level and the network test
// against the echo peer (precall.js). "Join" stops this page's tracks: the room opens its own
// with the same devices, so no track outlives the screen.
import { number } from "../format.js";
import { canPickSpeaker, openMedia, remember, remembered } from "./devices.js";
import { LIMITS, networkTest } from "./precall.js";

const $ = (id) => document.getElementById(id);
const T = JSON.parse($("prejoin-config").textContent).strings;
const selects = { videoinput: $("pj-camera"), audioinput: $("pj-mic"), audiooutput: $("pj-speaker") };
const level = { context: null, source: null, analyser: null, data: null };
let stream = null;

function stopAll() {
  level.source?.disconnect();
  level.source = null;
  stream?.getTracks().forEach((t) => t.stop());
  stream = null;
}

function banner(text) {
  $("pj-banner").textContent = text || "";
  $("pj-banner").hidden = !text;
}

async function showPreview(choice) {
  stopAll();
  stream = await openMedia(choice).catch(() => openMedia(choice, { video: false }).catch(() => null));
  $("preview").srcObject = stream;
  banner(stream ? "" : T.no_devices);
  await fill();
  listen();
}

// The options, once permission is given (labels are empty before); the ones in use selected.
async function fill() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  const using = {
    videoinput: stream?.getVideoTracks()[0]?.getSettings().deviceId,
    audioinput: stream?.getAudioTracks()[0]?.getSettings().deviceId,
    audiooutput: remembered().audiooutput,
  };
  for (const [kind, select] of Object.entries(selects)) {
    const found = devices.filter((d) => d.kind === kind && d.deviceId);
    select.replaceChildren(...found.map((d, i) => new Option(d.label || T.device.replace("%(n)s", i + 1), d.deviceId)));
    if (found.some((d) => d.deviceId === using[kind])) select.value = using[kind];
  }
  const speakers = canPickSpeaker() && selects.audiooutput.options.length > 0;
  $("pj-speaker-row").hidden = !speakers;
  $("pj-no-speaker").hidden = speakers;
}

// The microphone level: the RMS of the last 1024 samples, 0–100, on a bar and aria-valuenow.
function listen() {
  const track = stream?.getAudioTracks()[0];
  if (!track) return;
  level.context ||= new AudioContext();
  level.analyser ||= Object.assign(level.context.createAnalyser(), { fftSize: 1024 });
  level.data ||= new Float32Array(level.analyser.fftSize);
  level.source = level.context.createMediaStreamSource(new MediaStream([track]));
  level.source.connect(level.analyser);
  if (level.context.state === "suspended") level.context.resume().catch(() => {});
}

// The bar falls back slowly (a peak hold), so that a word spoken stays visible a moment.
function showLevel() {
  let value = 0;
  if (level.source) {
    level.analyser.getFloatTimeDomainData(level.data);
    const rms = Math.sqrt(level.data.reduce((sum, x) => sum + x * x, 0) / level.data.length);
    const held = Number($("pj-meter").getAttribute("aria-valuenow")) * 0.85;
    value = Math.round(Math.max(Math.min(100, rms * 400), held));
  }
  $("pj-meter").setAttribute("aria-valuenow", String(value));
  $("pj-meter").firstElementChild.style.transform = `scaleX(${value / 100})`;
}
setInterval(showLevel, 100);
// Some browsers start audio only after a gesture on the page.
for (const type of ["pointerdown", "keydown"]) {
  document.addEventListener(type, () => level.context?.state === "suspended" && level.context.resume(), { passive: true });
}

function row(key, value, ok) {
  $(`r-${key}`).textContent = value;
  $(`r-${key}`).dataset.ok = ok;
}

// The test sends copies of the preview's tracks and stops only those: the preview stays on.
async function test() {
  $("start").disabled = true;
  $("verdict").dataset.verdict = "";
  $("verdict").textContent = T.running;
  $("verdict-hint").textContent = "";
  const copies = (stream?.getTracks() || []).map((t) => t.clone());
  const result = await networkTest(copies, { onBusy: () => { $("verdict").textContent = T.busy; } });
  copies.forEach((t) => t.stop());
  row("rtt", Number.isFinite(result.rtt) ? `${number(result.rtt)} ms` : "—", result.rtt <= LIMITS.pass.rtt);
  row("loss", `${number(result.loss, 1)} %`, result.loss <= LIMITS.pass.loss);
  row("bitrate", `${number(result.kbps)} kbps`, result.kbps >= LIMITS.pass.kbps);
  $("verdict").dataset.verdict = result.verdict;
  $("verdict").textContent = T[result.verdict];
  $("verdict-hint").textContent = T[`${result.verdict}_hint`];
  $("start").disabled = false;
  window.precallResult = result;
}

for (const kind of ["videoinput", "audioinput"]) {
  selects[kind].onchange = () => {
    remember({ [kind]: selects[kind].value });
    showPreview(remembered());
  };
}
selects.audiooutput.onchange = () => remember({ audiooutput: selects.audiooutput.value });
$("start").onclick = test;
if ($("join")) {
  $("join").onclick = () => {
    remember(Object.fromEntries(Object.entries(selects).map(([k, s]) => [k, s.value]).filter(([, v]) => v)));
    stopAll();
    level.context?.close();
  };
}
addEventListener("pagehide", stopAll);

// For browser tests: what the screen holds.
window.prejoinDebug = {
  live: () => (stream ? stream.getTracks().filter((t) => t.readyState === "live").length : 0),
  level: () => Number($("pj-meter").getAttribute("aria-valuenow")),
};

showPreview(remembered());
