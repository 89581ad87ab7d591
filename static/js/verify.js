// Hash a dropped PDF in the browser and look up only its SHA-256.
// The texts shown while it works are the status element's data-* attributes,
// translated by the template; "{name}" in data-computing stands for the file name.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("verify-form");
  const input = document.getElementById("verify-file");
  const zone = document.getElementById("drop-zone");
  const status = document.getElementById("verify-status");
  const field = document.getElementById("verify-sha256");
  if (!form || !input) return;
  const texts = status.dataset;

  async function check(file) {
    if (!window.crypto || !window.crypto.subtle) {
      status.textContent = texts.noCrypto;
      return;
    }
    status.textContent = texts.computing.replace("{name}", file.name);
    const digest = await window.crypto.subtle.digest("SHA-256", await file.arrayBuffer());
    field.value = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
    status.textContent = texts.checking;
    form.submit();
  }

  input.addEventListener("change", () => input.files.length && check(input.files[0]));
  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (event) => { event.preventDefault(); zone.classList.add("is-dragging"); });
  }
  for (const name of ["dragleave", "drop"]) {
    zone.addEventListener(name, () => zone.classList.remove("is-dragging"));
  }
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    if (event.dataTransfer.files.length) check(event.dataTransfer.files[0]);
  });
});
