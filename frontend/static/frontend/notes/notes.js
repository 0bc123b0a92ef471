// The consult's shared notes, mounted into a container: live sections over the notes socket,
// edits kept on this device until the server acknowledges them, conflict merge, history,
// attachments, chat. The notes page mounts it on the whole page (page.js), the room page
// beside the call (../room/panels.js); each mounts only the parts its markup has.
import { dateTime, time as clock } from "../format.js";
import { ReconnectingSocket, backoff } from "../socket.js";

const fmt = (s, values) => s.replace(/%\((\w+)\)s/g, (_, k) => values[k] ?? "");
const newId = () => {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
};
const csrf = () => (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";
const el = (tag, attrs = {}, text = "") => {
  const node = document.createElement(tag);
  Object.assign(node, attrs);
  if (text) node.textContent = text;
  return node;
};

// root: the element (or document) holding the sections and chat. boot: {consultation, me,
// strings, state?}; without state, the sections wait for the socket's notes.state.
// on: {chat?(message)} is told of each new chat message as it arrives (not the history).
export function mountNotes(root, boot, on = {}) {
  const T = boot.strings;
  const api = `/api/v1/consultations/${boot.consultation}/notes/`;
  const pendingKey = `notes-pending:${boot.consultation}:${boot.me.id}`;
  const sections = {}; // key → {revision, content, updated_by, updated_at} as the server has it
  let signed = boot.state?.signed ?? false;
  const $ = (selector) => root.querySelector(selector);
  const $$ = (selector) => root.querySelectorAll(selector);
  const icd = $("#section-assessment");

  // --- edits kept on this device -------------------------------------------------------
  const loadPending = () => JSON.parse(localStorage.getItem(pendingKey) || "{}");
  const savePending = (p) => localStorage.setItem(pendingKey, JSON.stringify(p));
  function keep(section, edit) { const p = loadPending(); p[section] = edit; savePending(p); }
  function forget(section, editId) {
    const p = loadPending();
    if (p[section] && p[section].client_edit_id === editId) { delete p[section]; savePending(p); }
  }

  // --- forms ---------------------------------------------------------------------------
  const card = (key) => $(`#section-${key}`);
  const form = (key) => card(key).querySelector("form");

  function readForm(key) {
    const f = form(key);
    const out = {};
    for (const input of f.querySelectorAll("[name]")) {
      if (input.name === "icd10") out.icd10 = input.value ? input.value.split(",") : [];
      else if (input.type === "number") out[input.name] = input.value === "" ? null : Number(input.value);
      else if (input.name === "date") out.date = isoDay(input.value);
      else out[input.name] = input.value;
    }
    if (key === "followup" && !out.date) out.date = null;
    return out;
  }

  // The page writes days as dd/mm/yyyy (whatever the browser's locale); the API takes ISO.
  function isoDay(text) {
    const m = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})\s*$/.exec(text);
    return m ? `${m[3]}-${m[2].padStart(2, "0")}-${m[1].padStart(2, "0")}` : text.trim();
  }

  function shownDay(iso) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
    return m ? `${m[3]}/${m[2]}/${m[1]}` : iso ?? "";
  }

  function fillForm(key, content) {
    const f = form(key);
    for (const input of f.querySelectorAll("[name]")) {
      const value = content[input.name];
      if (input.name === "date") input.value = shownDay(value);
      else input.value = Array.isArray(value) ? value.join(",") : value ?? "";
    }
    if (key === "assessment") renderChips();
    f.dataset.dirty = "";
    delete f.dataset.base;
  }

  // An edit is based on the revision shown when the typing started, not on whatever
  // arrived since: that is what makes a concurrent save a conflict instead of a loss.
  function markDirty(key) {
    const f = form(key);
    if (!f.dataset.dirty) f.dataset.base = String(sections[key]?.revision || 0);
    f.dataset.dirty = "1";
  }

  function describe(content) {
    return Object.entries(content || {})
      .filter(([, v]) => v !== null && v !== "" && !(Array.isArray(v) && !v.length))
      .map(([k, v]) => (k === "text" ? v : `${k}: ${Array.isArray(v) ? v.join(", ") : v}`))
      .join("\n");
  }

  function status(key, text, cls = "") {
    const s = card(key).querySelector(".status");
    s.textContent = text;
    s.className = `status muted ${cls}`;
  }

  function showRevision(key) {
    const s = sections[key];
    status(key, s.revision ? fmt(T.updated_by, { revision: s.revision, name: s.updated_by?.name, time: dateTime(s.updated_at) }) : T.never);
  }

  function applyServer(payload) {
    const key = payload.section;
    sections[key] = payload;
    const f = form(key);
    if (!f.dataset.dirty && !loadPending()[key]) fillForm(key, payload.content);
    else if (f.dataset.dirty) status(key, T.newer, "unsent");
    if (!f.dataset.dirty) showRevision(key);
  }

  // --- sending -------------------------------------------------------------------------
  const send = (frame) => socket.send(frame);

  // A write a weak link may lose keeps its Idempotency-Key until the server answers it: the
  // same action retried (here after a lost answer, or by the user's second click) never
  // writes twice (docs/architecture.md "Idempotency").
  const writeKeys = new Map(); // action → key
  const RETRIES = 3;
  async function write(action, url, init) {
    if (!writeKeys.has(action)) writeKeys.set(action, crypto.randomUUID ? crypto.randomUUID() : newId());
    const headers = { ...init.headers, "X-CSRFToken": csrf(), "Idempotency-Key": writeKeys.get(action) };
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await fetch(url, { ...init, method: "POST", headers });
        if (r.status !== 503 || attempt === RETRIES) {
          if (r.status < 500) writeKeys.delete(action); // answered: the next one is a new action
          return r;
        }
      } catch (err) {
        if (attempt === RETRIES) throw err;
      }
      await new Promise((resolve) => setTimeout(resolve, backoff(attempt)));
    }
  }

  function saveSection(key, base) {
    if (signed) return;
    const f = form(key);
    const started = f.dataset.base !== undefined ? Number(f.dataset.base) : sections[key].revision;
    const edit = { section: key, content: readForm(key), base_revision: base ?? started, client_edit_id: newId() };
    keep(key, edit);
    card(key).querySelector(".errors").textContent = "";
    if (send({ type: "note.save", ...edit })) status(key, T.saving);
    else status(key, T.unsent, "unsent");
  }

  function flushPending() {
    for (const edit of Object.values(loadPending())) send({ type: "note.save", ...edit });
  }

  // --- incoming frames -----------------------------------------------------------------
  const presenceTimers = {};
  const handlers = {
    "notes.state": (m) => {
      signed = m.signed;
      for (const s of m.sections) applyServer(s);
      flushPending();
      if (signed) lockAll();
    },
    "note.updated": (m) => {
      const known = sections[m.section]?.revision || 0;
      if (m.revision > known + 1) send({ type: "notes.sync" }); // missed a frame: resync
      if (m.revision >= known) applyServer(m);
    },
    "note.saved": (m) => {
      forget(m.section, m.client_edit_id);
      form(m.section).dataset.dirty = "";
      delete form(m.section).dataset.base;
      // A resent edit is acked with its own revision; if someone saved after it, show theirs
      // and base the next edit on it, never on this edit's older revision.
      if (m.current && m.current_revision > m.revision) { applyServer(m.current); return; }
      if ((sections[m.section]?.revision || 0) <= m.revision) sections[m.section].revision = m.revision;
      status(m.section, T.saved);
    },
    "note.presence": (m) => {
      if (m.user.id === boot.me.id) return;
      const p = card(m.section).querySelector(".presence");
      clearTimeout(presenceTimers[m.section]);
      p.textContent = m.editing ? fmt(T.editing, { name: m.user.name }) : "";
      if (m.editing) presenceTimers[m.section] = setTimeout(() => { p.textContent = ""; }, m.ttl * 1000);
    },
    "chat.message": (m) => addChat(m) && on.chat?.(m),
    "chat.state": (m) => { $(".chat-list").textContent = ""; m.messages.forEach(addChat); },
    "attachment.added": (m) => addAttachment(m),
    "report.signed": () => { signed = true; lockAll(); },
    error: (m) => {
      if (m.code === "note_conflict") return showConflict(m);
      if (m.code === "report_signed") { signed = true; lockAll(); return; }
      if (m.section || m.client_edit_id) {
        const key = m.section || Object.keys(loadPending()).find((k) => loadPending()[k].client_edit_id === m.client_edit_id);
        if (key && card(key)) {
          forget(key, m.client_edit_id);
          const list = card(key).querySelector(".errors");
          list.textContent = "";
          for (const [field, msgs] of Object.entries(m.fields || {})) list.append(el("li", {}, `${field}: ${msgs.join(" ")}`));
          status(key, `${T.error}: ${m.message}`, "unsent");
        }
      }
    },
  };

  function showConflict(m) {
    const key = m.section;
    forget(key, m.client_edit_id);
    sections[key] = m.current;
    const box = card(key).querySelector(".conflict");
    box.hidden = false;
    box.querySelector(".conflict-title").textContent = fmt(T.conflict, { name: m.current.updated_by?.name || "" });
    box.querySelector(".theirs").textContent = describe(m.current.content);
    box.querySelector(".yours").textContent = describe(m.yours.content);
    status(key, T.error, "unsent");
  }

  function lockAll() {
    $$(".note-form [name], .note-form .save, .upload, .chat-form [name], .chat-form button").forEach((n) => { n.disabled = true; });
    $$(".note-section .status").forEach((n) => { n.textContent = T.signed; });
    $("#sign-report")?.remove();
  }

  // --- the socket, with jittered reconnect ---------------------------------------------
  function linkState(online) {
    const b = $("#link-state");
    if (!b) return;
    b.textContent = online ? T.online : T.offline;
    b.className = `badge ${online ? "ok" : "warn"}`;
  }

  const socket = new ReconnectingSocket(`/ws/consultations/${boot.consultation}/notes/`, {
    open: () => { linkState(true); send({ type: "chat.sync" }); },
    frame: (m) => {
      if (m.type === "notes.state") socket.settled();
      (handlers[m.type] || (() => {}))(m);
    },
    reconnecting: () => linkState(false),
    closed: () => linkState(false),
  });

  // --- wiring --------------------------------------------------------------------------
  for (const s of boot.state?.sections ?? []) { sections[s.section] = s; fillForm(s.section, s.content); showRevision(s.section); }
  for (const [key, edit] of Object.entries(loadPending())) {
    if (!card(key)) continue;
    fillForm(key, edit.content);
    form(key).dataset.dirty = "1";
    form(key).dataset.base = String(edit.base_revision);
    status(key, T.unsent, "unsent");
  }

  $$(".note-section").forEach((c) => {
    const key = c.dataset.section;
    const f = c.querySelector("form");
    let lastPresence = 0;
    f.addEventListener("input", () => {
      markDirty(key);
      if (Date.now() - lastPresence > 1500) { lastPresence = Date.now(); send({ type: "note.editing", section: key, editing: true }); }
    });
    f.addEventListener("focusout", (e) => {
      if (!f.contains(e.relatedTarget)) { lastPresence = 0; send({ type: "note.editing", section: key, editing: false }); }
    });
    f.addEventListener("submit", (e) => { e.preventDefault(); saveSection(key); });
    c.querySelector(".save-merged").addEventListener("click", () => { c.querySelector(".conflict").hidden = true; saveSection(key, sections[key].revision); });
    c.querySelector(".take-theirs").addEventListener("click", () => { c.querySelector(".conflict").hidden = true; fillForm(key, sections[key].content); showRevision(key); });
    c.querySelector(".show-history").addEventListener("click", async () => {
      const list = c.querySelector(".history");
      list.hidden = !list.hidden;
      if (list.hidden) return;
      const rows = await (await fetch(`${api}${key}/history/`)).json();
      list.textContent = "";
      for (const r of rows) {
        const li = el("li", { className: r.outcome === "applied" ? "" : "refused" },
          `${dateTime(r.at)} — ${r.author.name} — ${r.outcome === "applied" ? `r${r.number} ${T.applied}` : T.refused}: ${describe(r.content)}`);
        list.append(li);
      }
    });
  });

  // ICD-10 picker
  function renderChips() {
    const hidden = icd.querySelector("[name=icd10]");
    const chips = icd.querySelector(".chips");
    chips.textContent = "";
    for (const code of hidden.value ? hidden.value.split(",") : []) {
      const li = el("li", {}, code + " ");
      const x = el("button", { type: "button", title: fmt(T.remove_code, { code }) }, "×");
      x.setAttribute("aria-label", x.title);
      x.onclick = () => { hidden.value = hidden.value.split(",").filter((c) => c !== code).join(","); markDirty("assessment"); renderChips(); };
      li.append(x);
      chips.append(li);
    }
  }
  let icdTimer = null;
  icd?.querySelector(".icd-search").addEventListener("input", (e) => {
    clearTimeout(icdTimer);
    icdTimer = setTimeout(async () => {
      const results = icd.querySelector(".icd-results");
      results.textContent = "";
      if (!e.target.value.trim()) return;
      const data = await (await fetch(`/api/v1/icd10/?q=${encodeURIComponent(e.target.value)}`)).json();
      for (const row of data.results.slice(0, 8)) {
        const b = el("button", { type: "button" }, `${row.code} — ${row.title_vi}`);
        b.onclick = () => {
          const hidden = icd.querySelector("[name=icd10]");
          const codes = new Set(hidden.value ? hidden.value.split(",") : []);
          codes.add(row.code);
          hidden.value = [...codes].join(",");
          markDirty("assessment");
          results.textContent = "";
          e.target.value = "";
          renderChips();
        };
        const li = el("li");
        li.append(b);
        results.append(li);
      }
    }, 250);
  });

  // chat
  function addChat(m) {
    const list = $(".chat-list");
    if (!list || list.querySelector(`[data-id="${m.id}"]`)) return false;
    const li = el("li", {}, "");
    li.dataset.id = m.id;
    li.append(el("b", {}, m.author.name), document.createTextNode(` ${clock(m.at)}: ${m.text}`));
    list.append(li);
    list.scrollTop = list.scrollHeight;
    return true;
  }
  $(".chat-form")?.addEventListener("submit", (e) => {
    e.preventDefault();
    const input = e.target.querySelector("[name=text]");
    if (input.value.trim() && send({ type: "chat.send", text: input.value, client_msg_id: newId() })) input.value = "";
  });

  // attachments
  function addAttachment(a) {
    const list = $(".attachment-list");
    if (!list || list.querySelector(`[data-id="${a.id}"]`)) return;
    const li = el("li");
    li.dataset.id = a.id;
    const link = el("a", { href: `${api}attachments/${a.id}/`, target: "_blank", rel: "noopener" });
    if (a.has_thumbnail) link.append(el("img", { src: `${api}attachments/${a.id}/thumbnail/`, alt: a.caption || a.name }));
    else link.textContent = a.name || "PDF";
    li.append(link, el("div", { className: "muted" }, `${a.uploaded_by.name} · ${dateTime(a.at)}`));
    list.append(li);
  }
  async function loadAttachments() {
    if (!$(".attachment-list")) return;
    const r = await fetch(`${api}attachments/`);
    if (r.ok) (await r.json()).results.forEach(addAttachment);
  }
  $$(".upload").forEach((input) => input.addEventListener("change", async () => {
    const out = $(".upload-status");
    const file = input.files[0];
    const body = new FormData();
    body.append("file", file);
    try {
      const r = await write(`upload:${file.name}:${file.size}:${file.lastModified}`, `${api}attachments/`, { body });
      const data = await r.json();
      out.textContent = r.ok ? "" : `${T.upload_failed}: ${data.message}`;
      if (r.ok) addAttachment(data);
    } catch {
      out.textContent = `${T.upload_failed}: ${T.offline}`; // choosing the same file again retries it, same key
    }
    input.value = "";
  }));

  // report
  async function post(path, body) {
    const json = JSON.stringify(body || {});
    let r;
    try {
      r = await write(`${path} ${json}`, `${api}${path}`, { headers: { "Content-Type": "application/json" }, body: json });
    } catch {
      $(".report-status").textContent = T.offline;
      return;
    }
    if (r.ok) return location.reload();
    $(".report-status").textContent = (await r.json()).message;
  }
  $("#submit-case")?.addEventListener("click", () => post("submit/"));
  $("#addendum-form")?.addEventListener("submit", (e) => { e.preventDefault(); post("report/addenda/", { text: e.target.text.value }); });

  if (signed) lockAll();
  loadAttachments();
  socket.open();
}
