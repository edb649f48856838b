// PostDodo dashboard: small progressive enhancements. Every form works without this file.
"use strict";

// Copy buttons: <button data-copy="ID"> copies the text of the element with that id.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(() => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 2000);
  });
});

// Forms with data-confirm ask first (the server asks too where it matters: a required checkbox).
document.addEventListener("submit", (event) => {
  const message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});

// fetch() for the dashboard's own endpoints: sends the session's CSRF token (the server refuses a
// state-changing request without it) and the cookie. Pages with live parts use window.postdodo.fetch.
window.postdodo = Object.freeze({
  fetch(url, options = {}) {
    const token = document.querySelector('meta[name="csrf-token"]').content;
    const headers = new Headers(options.headers || {});
    headers.set("X-CSRF-Token", token);
    return window.fetch(url, { ...options, headers, credentials: "same-origin" });
  },
});
