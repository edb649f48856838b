// PostDodo dashboard, posts pages: the composer's live check, a post's live status, the calendar's arrow keys,
// and the browser's time zone for the server. Every page works without this file; it only makes them quicker.
"use strict";

(() => {
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const zone = (() => { try { return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; } catch (e) { return "UTC"; } })();

  // The server draws times in the zone this cookie names. A page drawn for another UTC offset is drawn again once.
  if (/^[A-Za-z0-9_+\-\/]+$/.test(zone)) {  // IANA names need no escaping in a cookie; anything else stays out
    document.cookie = "postdodo_tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax" +
      (location.protocol === "https:" ? "; Secure" : "");
  }
  const drawn = document.querySelector('meta[name="postdodo-offset"]');
  if (drawn && Number(drawn.content) !== -new Date().getTimezoneOffset() && !sessionStorage.getItem("postdodo-tz-redrawn")) {
    sessionStorage.setItem("postdodo-tz-redrawn", "1");  // never a loop, even where cookies are blocked
    location.reload();
    return;
  }

  // -- composer: the same preflight as POST /v1/posts/validate, asked 300 ms after the last keystroke -----------
  const form = document.getElementById("composer");
  if (form) {
    const button = document.getElementById("submit-post");
    const state = document.getElementById("check-state");
    const counters = document.getElementById("caption-counters");
    const sentAs = document.getElementById("sent-as");
    const zoneField = document.getElementById("timezone");
    zoneField.value = zone;
    document.getElementById("zone-name").textContent = zone;
    let timer = null, sequence = 0;

    const counterItem = (c) => {
      const item = document.createElement("li");
      item.dataset.platform = c.platform;
      if (c.over) item.className = "over";
      const unit = document.createElement("span");
      unit.className = "hint";
      unit.textContent = c.unit;
      item.append(`${c.label}: ${c.length}${c.limit ? " / " + c.limit : ""} `, unit);
      return item;
    };

    // "Customize for <platform>" shows only for the platforms of the picked accounts (the server ignores the others)
    const versions = () => {
      const picked = new Set(Array.from(form.querySelectorAll('input[name="account_ids"]:checked'), (box) => box.dataset.platform));
      form.querySelectorAll("details.version").forEach((details) => { details.hidden = !picked.has(details.dataset.platform); });
    };

    const show = (answer) => {
      form.querySelectorAll("[data-slot]").forEach((box) => { box.replaceChildren(); });
      form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
      const lists = {};
      for (const problem of answer.problems) {
        const box = form.querySelector(`[data-slot="${problem.slot}"]`) || form.querySelector('[data-slot="form"]');
        if (!lists[problem.slot]) { lists[problem.slot] = document.createElement("ul"); box.append(lists[problem.slot]); }
        const item = document.createElement("li");
        if (problem.label) { const b = document.createElement("strong"); b.textContent = problem.label; item.append(b, ": "); }
        item.append(problem.message);
        lists[problem.slot].append(item);
        const field = box.dataset.field && document.getElementById(box.dataset.field);
        if (field) field.setAttribute("aria-invalid", "true");
        const details = box.closest("details");
        if (details) details.open = true;  // a problem inside a closed "Customize for" must be seen
      }
      counters.replaceChildren(...answer.counters.map(counterItem));
      if (!answer.counters.length) {
        const item = document.createElement("li");
        item.className = "hint";
        item.textContent = answer.version_counters.length ? "Every picked platform has its own version below."
          : "Pick an account to see its platform's limit.";
        counters.append(item);
      }
      form.querySelectorAll("[data-version-counter]").forEach((list) => {
        list.replaceChildren(...answer.version_counters.filter((c) => c.platform === list.dataset.versionCounter).map(counterItem));
      });
      form.querySelectorAll("[data-thread-counter]").forEach((list) => {
        const item = Number(list.dataset.threadCounter);
        list.replaceChildren(...(answer.thread_counters || []).filter((c) => c.item === item).map(counterItem));
      });
      sentAs.textContent = answer.scheduled_at ? `Sent as ${answer.scheduled_at.replace("T", " ").replace(":00Z", "")} UTC.` : "";
      button.disabled = !answer.valid;
      state.textContent = answer.valid ? "Ready." : "Fix the problems shown to continue.";
    };

    const check = () => {
      const mine = ++sequence;
      state.textContent = "Checking…";
      fetch(form.dataset.checkUrl, {
        method: "POST", credentials: "same-origin", body: new URLSearchParams(new FormData(form)),
        headers: { "X-CSRF-Token": csrf(), Accept: "application/json" },
      }).then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
        .then((answer) => { if (mine === sequence) show(answer); })
        .catch(() => { if (mine === sequence) { state.textContent = "Could not check now; the server checks again when you submit."; button.disabled = false; } });
    };
    const soon = () => { clearTimeout(timer); timer = setTimeout(check, 300); };

    // Thread: the server draws a few item boxes; here items can be added (up to the API's 25) and removed.
    // Names and ids carry the box's number (thread.<i>.caption, thread-<i>-...): renumbered after each change.
    const items = document.getElementById("thread-items");
    const addItem = document.getElementById("thread-add");
    if (items && addItem) {
      const MAX_ITEMS = 25;
      const numbered = /\bthread([.-])\d+/g;
      const renumber = () => {
        const boxes = Array.from(items.children);
        boxes.forEach((box, i) => {
          box.querySelectorAll("*").forEach((el) => {
            for (const name of ["id", "for", "name", "aria-describedby", "data-slot", "data-field"]) {
              const value = el.getAttribute(name);
              if (value) el.setAttribute(name, value.replace(numbered, `thread$1${i}`));
            }
            if (el.dataset.threadCounter !== undefined) el.dataset.threadCounter = String(i);
          });
          box.querySelectorAll(".thread-n").forEach((n) => { n.textContent = String(i + 1); });
          box.querySelector(".thread-remove").hidden = boxes.length === 1;
        });
        addItem.disabled = boxes.length >= MAX_ITEMS;
      };
      addItem.addEventListener("click", () => {
        const fresh = items.lastElementChild.cloneNode(true);
        fresh.querySelectorAll(".media-row").forEach((row, k) => { if (k > 0) row.remove(); });
        fresh.querySelectorAll("textarea, input").forEach((el) => { el.value = ""; el.removeAttribute("aria-invalid"); });
        fresh.querySelectorAll("select").forEach((el) => { el.selectedIndex = 0; });
        fresh.querySelectorAll("[data-slot], [data-thread-counter]").forEach((el) => el.replaceChildren());
        items.append(fresh);
        renumber();
        fresh.querySelector("textarea").focus();
        soon();
      });
      items.addEventListener("click", (event) => {
        const button = event.target.closest(".thread-remove");
        if (!button) return;
        const box = button.closest(".thread-item");
        const next = box.nextElementSibling || box.previousElementSibling;
        box.remove();
        renumber();
        if (next) next.querySelector("textarea").focus();  // focus stays in the thread, not on a removed button
        soon();
      });
      addItem.hidden = false;
      renumber();
    }
    form.addEventListener("input", soon);
    form.addEventListener("change", (event) => { if (event.target.name === "account_ids") versions(); soon(); });
    versions();
    window.addEventListener("pageshow", (event) => { if (event.persisted) { delete form.dataset.sent; check(); } });
    form.addEventListener("submit", (event) => {
      if (button.disabled || form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      // one submit per form: a second click would be a replay of the same key anyway
      setTimeout(() => { button.disabled = true; state.textContent = "Sending…"; }, 0);
      clearTimeout(timer);
      sequence++;
    });
    if (form.querySelector('input[name="account_ids"]:checked')) check();
  }

  // -- a post's page: its targets redrawn by the server every poll, until every one is final ----------------------
  const live = document.getElementById("live");
  if (live) {
    let last = null;
    const poll = () => {
      fetch(live.dataset.liveUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
        .then((answer) => {
          if (answer.html !== last) { live.innerHTML = answer.html; last = answer.html; tick(); }  // escaped by the server's template
          if (answer.poll_ms > 0) setTimeout(poll, answer.poll_ms);
        })
        .catch(() => setTimeout(poll, 5000));
    };
    const wait = Number(live.dataset.pollMs);
    if (wait > 0) setTimeout(poll, wait);
  }

  // next-attempt countdowns
  const tick = () => {
    document.querySelectorAll("[data-countdown]").forEach((el) => {
      const seconds = Math.round((Date.parse(el.dataset.countdown) - Date.now()) / 1000);
      if (seconds <= 0) { el.textContent = "(due now)"; return; }
      const d = Math.floor(seconds / 86400), h = Math.floor(seconds / 3600) % 24, m = Math.floor(seconds / 60) % 60, s = seconds % 60;
      el.textContent = "(in " + (d ? d + " d " + h + " h" : h ? h + " h " + m + " min" : m ? m + " min " + s + " s" : s + " s") + ")";
    });
  };
  tick();
  setInterval(tick, 1000);

  // -- calendar: arrow keys move between days (left/right a day, up/down a week) ---------------------------------
  const calendar = document.querySelector("table.calendar");
  if (calendar) {
    calendar.addEventListener("keydown", (event) => {
      const step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 }[event.key];
      if (!step || !event.target.classList.contains("day-link")) return;
      const days = Array.from(calendar.querySelectorAll("a.day-link"));
      const next = days[days.indexOf(event.target) + step];
      if (next) { event.preventDefault(); next.focus(); }
    });
  }
})();
