// The "Still valid?" form, progressively enhanced: each answer is kept as a draft as soon as it is
// given (one row per request, in order per row). Without this file every section has its own
// Save button, which keeps the same drafts.
document.addEventListener("DOMContentLoaded", () => {
  // GOV.UK's error summary: focused on arrival, so it is read first.
  const summary = document.querySelector(".error-summary");
  if (summary) summary.focus();

  const form = document.querySelector("form.answers[data-row-url]");
  if (!form || !window.fetch || !window.FormData) return;
  const url = form.dataset.rowUrl;
  const queues = new Map(); // row id -> the promise of its last save
  const timers = new Map();

  function rowFields(row) {
    const id = row.dataset.row;
    const data = new FormData();
    data.append("csrf", form.elements["csrf"].value);
    data.append("country", form.elements["country"].value);
    for (const el of row.querySelectorAll("select, textarea, input")) {
      if (!el.name) continue;
      if (el.type === "checkbox" && !el.checked) continue;
      data.append(el.name, el.value);
    }
    if (!data.has("v:" + id)) data.append("v:" + id, "");
    return data;
  }

  function setState(row, text, failed) {
    const state = row.querySelector("[data-state]");
    if (!state) return;
    state.textContent = text;
    state.classList.toggle("field-error", Boolean(failed));
  }

  function showProblems(row, problems) {
    for (const old of row.querySelectorAll(".field-error[data-live]")) old.remove();
    for (const el of row.querySelectorAll("[aria-invalid]")) {
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
    }
    for (const old of row.querySelectorAll("p.field-error[id]")) old.remove();
    row.classList.toggle("has-error", problems.length > 0);
    for (const p of problems) {
      const field = document.getElementById(p.field);
      if (!field) continue;
      const message = document.createElement("p");
      message.className = "field-error";
      message.id = p.field + "-error";
      message.dataset.live = "1";
      message.textContent = p.message;
      field.before(message);
      field.setAttribute("aria-invalid", "true");
      field.setAttribute("aria-describedby", message.id);
    }
  }

  function save(row) {
    const before = queues.get(row.dataset.row) || Promise.resolve();
    const next = before.then(async () => {
      setState(row, form.dataset.saving, false);
      try {
        const response = await fetch(url, {
          method: "POST",
          body: rowFields(row),
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        });
        const answer = await response.json();
        if (!response.ok || !answer.saved) {
          const why = answer && answer.error ? answer.error.message : "";
          setState(row, form.dataset.failed + (why ? " " + why : ""), true);
          return;
        }
        setState(row, form.dataset.saved, false);
        showProblems(row, answer.problems);
        const progress = document.getElementById("progress");
        if (progress) progress.textContent = answer.progress;
        for (const el of document.querySelectorAll(`[data-group-progress="${answer.group.key}"]`)) {
          el.textContent = answer.group.progress;
        }
        const unsent = document.getElementById("unsent");
        if (unsent && answer.unsent_text !== undefined) unsent.textContent = answer.unsent_text;
      } catch (err) {
        setState(row, form.dataset.failed, true);
      }
    });
    queues.set(row.dataset.row, next);
    return next;
  }

  function later(row, ms) {
    clearTimeout(timers.get(row.dataset.row));
    timers.set(row.dataset.row, setTimeout(() => save(row), ms));
  }

  form.addEventListener("change", (event) => {
    const row = event.target.closest("tr[data-row]");
    if (!row) return;
    clearTimeout(timers.get(row.dataset.row));
    save(row);
  });
  // While typing: kept a moment after the typing stops, not at every key.
  form.addEventListener("input", (event) => {
    const row = event.target.closest("tr[data-row]");
    if (row && event.target.tagName === "TEXTAREA") later(row, 1500);
  });
});
