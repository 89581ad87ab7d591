// Copy buttons: data-copy names the field whose value goes to the clipboard;
// data-copied and data-copy-failed hold the (translated) texts to show after.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", async () => {
      const field = document.getElementById(button.dataset.copy);
      if (!field) return;
      field.select();
      try {
        await navigator.clipboard.writeText(field.value);
        if (button.dataset.copied) button.textContent = button.dataset.copied;
      } catch {
        if (button.dataset.copyFailed) button.textContent = button.dataset.copyFailed;
      }
    });
  }
});
