// Dashboard core script. It never builds markup from data: everything it
// shows goes in through textContent or DOM nodes it creates, so attacker
// text stays text. Loaded by every page (CSP: script-src 'self').
"use strict";

// csrf is the page's CSRF token, for requests a script makes.
function csrf() {
  const m = document.querySelector('meta[name="csrf-token"]');
  return m ? m.content : "";
}

// fmtTime shows a time in the browser's time zone; the element's title
// keeps UTC.
const timeFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "2-digit", day: "2-digit",
  hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
});
function fmtTime(iso) {
  const d = new Date(iso);
  return isNaN(d) ? iso : timeFormat.format(d);
}
function utcTitle(iso) {
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

// localTimes rewrites every <time datetime> under root.
function localTimes(root) {
  for (const t of (root || document).querySelectorAll("time[datetime]")) {
    if (t.dataset.local) continue;
    t.textContent = fmtTime(t.getAttribute("datetime"));
    t.title = utcTitle(t.getAttribute("datetime"));
    t.dataset.local = "1";
  }
}

// timeElement makes a <time> for a log or event, as the server renders it.
function timeElement(iso) {
  const t = document.createElement("time");
  t.setAttribute("datetime", iso);
  t.textContent = fmtTime(iso);
  t.title = utcTitle(iso);
  t.dataset.local = "1";
  return t;
}

// Copy buttons: <button class="copy" data-copy="text"> or
// data-copy-from="#id" (the element's text).
document.addEventListener("click", (ev) => {
  const b = ev.target.closest("button.copy");
  if (!b) return;
  let text = b.dataset.copy;
  if (text === undefined && b.dataset.copyFrom) {
    const src = document.querySelector(b.dataset.copyFrom);
    text = src ? src.textContent : "";
  }
  const done = () => { const old = b.textContent; b.textContent = "Copied"; setTimeout(() => { b.textContent = old; }, 1200); };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text || "").then(done, () => fallbackCopy(text, done));
  } else {
    fallbackCopy(text, done);
  }
});
function fallbackCopy(text, done) {
  const ta = document.createElement("textarea");
  ta.value = text || "";
  ta.setAttribute("readonly", "");
  ta.className = "offscreen";
  document.body.appendChild(ta);
  ta.select();
  try { document.execCommand("copy"); done(); } catch (e) { /* nothing to do */ }
  ta.remove();
}

// Forms with data-confirm ask first (irreversible actions).
document.addEventListener("submit", (ev) => {
  const msg = ev.target.dataset.confirm;
  if (msg && !window.confirm(msg)) ev.preventDefault();
}, true);

// Forms whose <select data-autosubmit> changes submit themselves.
document.addEventListener("change", (ev) => {
  if (ev.target.matches("select[data-autosubmit]")) ev.target.form.requestSubmit();
});

// LiveStream follows GET /api/v1/stream with the given query. It asks the
// dashboard for a ticket (the session token is not readable by script),
// remembers the last log id it saw, and on any failure reconnects after a
// pause with lastEventId set, so no log is missed or shown twice.
// onMessage gets each parsed frame ({type, data}); onState gets
// "live", "reconnecting" or "stopped".
class LiveStream {
  constructor(params, onMessage, onState) {
    this.params = params;
    this.onMessage = onMessage;
    this.onState = onState || (() => {});
    this.lastId = params.lastEventId || 0;
    this.delay = 1000;
    this.stopped = false;
    this.es = null;
    this.timer = null;
  }
  async start() {
    this.stopped = false;
    clearTimeout(this.timer);
    let ticket;
    try {
      const r = await fetch("/ui/ticket", { method: "POST", headers: { "X-CSRF-Token": csrf() }, credentials: "same-origin" });
      if (r.status === 401 || r.status === 403 || r.redirected) { window.location.reload(); return; }
      if (!r.ok) throw new Error("ticket " + r.status);
      ticket = (await r.json()).ticket;
    } catch (e) {
      this.retry();
      return;
    }
    if (this.stopped) return;
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(this.params)) {
      if (k !== "lastEventId" && v !== undefined && v !== null && v !== "") q.set(k, v);
    }
    q.set("ticket", ticket);
    if (this.lastId) q.set("lastEventId", String(this.lastId));
    const es = new EventSource("/api/v1/stream?" + q.toString());
    this.es = es;
    es.onopen = () => { this.delay = 1000; this.onState("live"); };
    es.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (msg.type === "logs" && Array.isArray(msg.data)) {
        // Rows at or below the last id were shown already (a resumed
        // stream never repeats them, but a page's first rows may overlap).
        msg.data = msg.data.filter((row) => row.id > this.lastId);
        if (msg.data.length === 0) return;
        this.lastId = msg.data[msg.data.length - 1].id;
      }
      this.onMessage(msg);
    };
    es.addEventListener("error", () => {
      // The browser would retry with the same (expired) ticket and
      // without our lastEventId; reconnect ourselves.
      es.close();
      if (this.es === es) this.es = null;
      this.retry();
    });
  }
  retry() {
    if (this.stopped) return;
    this.onState("reconnecting");
    this.timer = setTimeout(() => this.start(), this.delay);
    this.delay = Math.min(this.delay * 2, 15000);
  }
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.es) { this.es.close(); this.es = null; }
    this.onState("stopped");
  }
}
window.LiveStream = LiveStream;
window.dashboard = { csrf, fmtTime, utcTitle, timeElement, localTimes };

document.addEventListener("DOMContentLoaded", () => {
  localTimes(document);
  // The menu is a <details> so phones can fold it; on wide screens it
  // starts open.
  const menu = document.querySelector("details.menu");
  if (menu && window.matchMedia("(min-width: 721px)").matches) menu.open = true;
});
