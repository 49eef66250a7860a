// Ringtrail dashboard: the calls log (audio player, marking); every page works without it.
// Keyboard shortcuts on a call's page: t (target), n (not target), c (clear), space (play or
// pause the recording); "/" on the calls log moves to the search field.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const typing = (target) =>
    target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
    if (event.key === "/") {
      const search = document.querySelector("[data-calls-search]");
      if (search) {
        event.preventDefault();
        search.focus();
      }
      return;
    }
    if (event.key === " ") {
      const audio = document.querySelector("[data-calls-audio]");
      if (audio && !(event.target instanceof HTMLButtonElement)) {
        event.preventDefault();
        if (audio.paused) audio.play(); else audio.pause();
      }
      return;
    }
    if (!/^[a-z]$/.test(event.key)) return;
    const button = document.querySelector(`button[data-calls-key="${event.key}"]`);
    if (button) {
      event.preventDefault();
      button.click();
    }
  });
});
