// Ringtrail dashboard: small progressive enhancements; every page works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // A "copy" button copies the text of the element named by data-copy.
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) continue;
    const label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", async () => {
      await navigator.clipboard.writeText(source.value ?? source.textContent);
      button.textContent = button.dataset.copiedLabel || label;
      setTimeout(() => { button.textContent = label; }, 2000);
    });
  }
});
