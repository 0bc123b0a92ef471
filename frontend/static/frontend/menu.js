// Phones: the top bar's links fold behind one button, so the bar keeps to one row
// (decision 46). Without this script the links stay in the bar and scroll sideways.
const bar = document.querySelector(".topbar");
const button = bar && bar.querySelector(".menu-toggle");
const nav = document.getElementById("site-nav");

if (bar && button && nav) {
  const open = (yes) => {
    button.setAttribute("aria-expanded", String(yes));
    nav.classList.toggle("open", yes);
  };
  bar.classList.add("has-menu");
  button.hidden = false;
  button.addEventListener("click", () => open(button.getAttribute("aria-expanded") !== "true"));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
      open(false);
      button.focus();
    }
  });
  document.addEventListener("click", (event) => {
    if (!bar.contains(event.target)) open(false);
  });
}
