// Every page: put feedback where the person is, and move focus to it.
//
// A message about one part of a page (data-for="section-goals") moves next
// to that part; an error summary (data-error-summary) comes before any
// message. Without JavaScript both stay at the top of the page.
document.addEventListener("DOMContentLoaded", () => {
  for (const message of document.querySelectorAll("[data-message][data-for]")) {
    const target = document.getElementById(message.dataset.for);
    if (!target) continue;
    const body = target.querySelector(":scope > .card-body");
    (body || target).prepend(message);
  }
});

// Focus waits for "load": the browser's jump to the URL's #fragment, which
// comes after DOMContentLoaded, would take it away again.
window.addEventListener("load", () => {
  const first =
    document.querySelector("[data-error-summary]") || document.querySelector("[data-message]");
  if (first) {
    first.focus();
    first.scrollIntoView({ block: "center" });
  }
});

// A passkey the browser did not give (the person cancelled, or has none
// here): allauth's script reports it as an "allauth.error" event; the page
// says so where the button is (#passkey_error), instead of nothing happening.
document.addEventListener("allauth.error", (event) => {
  const note = document.getElementById("passkey_error");
  if (!note) return;
  event.preventDefault();
  note.hidden = false;
  note.focus();
});
