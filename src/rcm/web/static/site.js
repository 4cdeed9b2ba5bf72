// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button.copy[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      await navigator.clipboard.writeText(source.textContent.trim());
      button.textContent = button.textContent + " ✓";
    });
  }
  // The search's filters are folded on a phone and open beside the results on a wider screen.
  const wide = window.matchMedia("(min-width: 48.01rem)");
  for (const refine of document.querySelectorAll("details.refine")) {
    refine.open = wide.matches;
    wide.addEventListener("change", () => { refine.open = wide.matches; });
  }
  // A table wider than a phone scrolls in its own box; one without links or controls becomes a
  // tab stop so that the keyboard can scroll it too.
  const scrollable = () => {
    for (const table of document.querySelectorAll("main table")) {
      if (table.querySelector("a[href], button, input, select, textarea")) continue;
      if (table.parentElement.closest("[tabindex]")) continue;  // its box scrolls and takes the keyboard
      if (table.scrollWidth > table.clientWidth + 1) table.tabIndex = 0;
      else table.removeAttribute("tabindex");
    }
  };
  scrollable();
  window.addEventListener("resize", scrollable);
  const sort = document.getElementById("sort");
  if (sort && sort.form) sort.addEventListener("change", () => sort.form.submit());
});
