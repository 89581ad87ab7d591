// "Add another" for the formsets of rows (templates/agreements/_edit_formset.html).
//
// Each button names its formset's prefix; a click copies the formset's empty
// row from its <template>, numbers it (Django writes "__prefix__" where the
// row's number goes), counts it in TOTAL_FORMS and moves focus to its first
// field. At MAX_NUM_FORMS the button gives way to a note saying so. Without
// JavaScript the button stays hidden and the form offers one empty row.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-formset-add]")) {
    const prefix = button.dataset.formsetAdd;
    const rows = document.getElementById(`${prefix}-rows`);
    const template = document.getElementById(`${prefix}-empty-row`);
    const total = document.getElementById(`id_${prefix}-TOTAL_FORMS`);
    const max = document.getElementById(`id_${prefix}-MAX_NUM_FORMS`);
    const fullNote = document.querySelector(`[data-formset-full="${prefix}"]`);
    if (!rows || !template || !total || !max) continue;

    const isFull = () => Number(total.value) >= Number(max.value);
    const showState = () => {
      button.hidden = isFull();
      if (fullNote) fullNote.hidden = !isFull();
    };

    button.addEventListener("click", () => {
      if (isFull()) return;
      const index = Number(total.value);
      const html = template.innerHTML.replaceAll("__prefix__", String(index));
      rows.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      const row = rows.lastElementChild;
      const first = row.querySelector(
        "input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])",
      );
      showState();
      if (first) first.focus();
    });
    showState();
  }
});
