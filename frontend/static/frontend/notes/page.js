// The notes page (after the call, and store-and-forward): the notes mounted on the whole page.
import { mountNotes } from "./notes.js";

mountNotes(document, JSON.parse(document.getElementById("notes-boot").textContent));
