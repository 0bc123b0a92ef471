// The consult screen's notes and chat, beside the call (docs/room.md "Pages"): the notes
// script mounted into #panels over the notes socket, which is not the call's socket, so
// writing a note never touches the call. Two tabs; a message arriving while the notes are
// shown is counted on the chat tab.
import { mountNotes } from "../notes/notes.js";

const root = document.getElementById("panels");
const boot = JSON.parse(document.getElementById("notes-boot").textContent);
const tabs = [...root.querySelectorAll("[role=tab]")];
const chatTab = root.querySelector("#tab-chat");
const unread = chatTab.querySelector(".unread");
const panelOf = (tab) => document.getElementById(tab.getAttribute("aria-controls"));
let count = 0;

function select(tab) {
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
    panelOf(t).hidden = !on;
  }
  if (tab === chatTab) {
    count = 0;
    unread.hidden = true;
  }
}

tabs.forEach((tab, i) => {
  tab.addEventListener("click", () => select(tab));
  tab.addEventListener("keydown", (e) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
    if (!step) return;
    const next = tabs[(i + step + tabs.length) % tabs.length];
    select(next);
    next.focus();
  });
});

mountNotes(root, boot, {
  chat: (m) => {
    if (m.author?.id === boot.me.id || !panelOf(chatTab).hidden) return;
    count += 1;
    unread.textContent = String(count);
    unread.hidden = false;
  },
});
