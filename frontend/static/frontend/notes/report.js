// The print button (the page CSP forbids inline handlers).
document.getElementById("print-report").addEventListener("click", () => window.print());
