// Ringtrail dashboard: the calls log (audio player, marking); every page works without it.
// Keyboard shortcuts on a call's page: t (target), n (not target), c (clear), space (play or
// pause the recording); "/" on the calls log moves to the search field. A call's page also
// gets a play/pause button for the recording, a plain button in the tab order.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const player = document.querySelector("button[data-calls-play]");
  const recording = document.querySelector("[data-calls-audio]");
  if (player && recording) {
    const labels = { play: player.textContent, pause: player.dataset.pauseLabel || "" };
    const show = () => {
      player.textContent = recording.paused ? labels.play : labels.pause;
    };
    player.hidden = false;
    player.addEventListener("click", () => {
      if (recording.paused) recording.play(); else recording.pause();
    });
    for (const event of ["play", "pause", "ended"]) recording.addEventListener(event, show);
  }

  // A transcript line's time plays the recording from there (the link opens the audio at that
  // moment when scripts do not run).
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest("a[data-seek]") : null;
    const audio = document.querySelector("[data-calls-audio]");
    if (!link || !audio) return;
    event.preventDefault();
    audio.currentTime = Number(link.dataset.seek) || 0;
    audio.play();
  });

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
