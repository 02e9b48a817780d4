// Live views: the overview and the log explorer's live mode. The page
// says what to follow in the data attributes of #live (the "liveconfig"
// template); new rows, counters and the chart enter the page as DOM nodes
// and text, never as markup, so attacker text stays text. logRow builds
// what the "logrow" template renders: change both together.
"use strict";
(() => {
  const cfg = document.getElementById("live");
  if (!cfg) return;
  const d = cfg.dataset;
  const table = document.getElementById(d.table);
  const tbody = table && table.tBodies[0];
  if (!tbody) return;
  const maxRows = Number(d.maxRows) || 100;
  const stateEl = document.getElementById("live-state");
  const numbers = new Intl.NumberFormat("en-US");

  const stateText = {
    connecting: "SYSTEM: connecting…",
    live: "SYSTEM: live",
    reconnecting: "SYSTEM: reconnecting…",
    stopped: "SYSTEM: paused",
  };
  function setState(s) {
    if (!stateEl) return;
    stateEl.dataset.state = s;
    stateEl.textContent = stateText[s] || "SYSTEM: " + s;
  }

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // attackerLink searches the explorer for one attacker, keeping the
  // page's period (data-row-links).
  function attackerLink(ip) {
    const u = new URL(d.rowLinks || "/logs", window.location.origin);
    u.searchParams.set("search", "attacker:" + ip);
    const a = el("a", "", ip);
    a.href = u.pathname + u.search;
    a.title = "Logs of " + ip;
    return a;
  }

  function fieldsCell(row) {
    const td = el("td", "fields");
    const f = row.fields || {};
    if (row.event_type === "file_captured") {
      const file = el("div", "file");
      file.append("file ", el("code", "", f.orig_path || ""), " sha256 ", el("code", "", f.sha256 || ""));
      td.appendChild(file);
    }
    for (const k of Object.keys(f).sort()) {
      const pill = el("span", "pill");
      pill.append(el("b", "", k), " " + f[k]);
      td.appendChild(pill);
    }
    if (row.raw_line) {
      const raw = el("details", "raw");
      raw.append(el("summary", "", "raw"), el("pre", "", row.raw_line));
      td.appendChild(raw);
    }
    return td;
  }

  function logRow(row) {
    const tr = el("tr", "new");
    tr.dataset.id = String(row.id);
    const time = el("td");
    time.appendChild(dashboard.timeElement(row.timestamp));
    const ip = el("td", "mono");
    ip.appendChild(row.attacker_ip ? attackerLink(row.attacker_ip) : el("span", "muted", "–"));
    const ev = el("td");
    ev.appendChild(el("span", row.severity <= 4 ? "tag warn" : "tag", row.event_type));
    tr.append(time, el("td", "mono", row.decky), el("td", "hide-narrow", row.service), ip, ev, fieldsCell(row));
    return tr;
  }

  // addLogs puts rows (oldest first) on top, keeping at most maxRows.
  function addLogs(rows) {
    for (const r of tbody.querySelectorAll("tr.empty-row")) r.remove();
    const empty = document.getElementById("empty-state");
    if (empty) empty.hidden = true;
    for (const row of rows) tbody.prepend(logRow(row));
    while (tbody.rows.length > maxRows) tbody.deleteRow(-1);
  }

  function setNumber(selector, n) {
    const e = document.querySelector(selector);
    if (e && typeof n === "number") e.textContent = numbers.format(n);
  }
  function setStats(st) {
    setNumber("#stat-total .value", st.total_logs);
    setNumber("#stat-attackers .value", st.unique_attackers);
    setNumber("#stat-deckies .active", st.active_deckies);
    setNumber("#stat-deckies .deployed", st.deployed_deckies);
    setNumber("#stat-bounties .value", st.total_bounties);
  }

  // The chart is drawn by the server only (chart.go): when the stream's
  // histogram changes, fetch the chart again and swap it in.
  let shownHistogram = "";
  let chartBusy = false;
  async function refreshChart(buckets) {
    const key = JSON.stringify(buckets);
    if (key === shownHistogram || chartBusy || !d.chartSrc) return;
    chartBusy = true;
    try {
      const r = await fetch(d.chartSrc, { credentials: "same-origin" });
      if (!r.ok || r.redirected) return;
      const doc = new DOMParser().parseFromString(await r.text(), "text/html");
      const fresh = doc.querySelector(".chart-box");
      const old = document.querySelector(".chart-box");
      if (fresh && old) {
        const node = document.importNode(fresh, true);
        old.replaceWith(node);
        dashboard.localTimes(node);
        shownHistogram = key;
      }
    } catch (e) {
      // The next histogram frame tries again.
    } finally {
      chartBusy = false;
    }
  }

  function onMessage(msg) {
    switch (msg.type) {
      case "logs": addLogs(msg.data); break;
      case "stats": setStats(msg.data || {}); break;
      case "histogram": refreshChart(msg.data); break;
    }
  }

  const stream = new LiveStream(
    { search: d.search, start_time: d.startTime, lastEventId: Number(d.lastId) || 0 }, onMessage, setState);

  const pause = document.getElementById("live-pause");
  if (pause) {
    pause.addEventListener("click", () => {
      const paused = pause.getAttribute("aria-pressed") === "true";
      pause.setAttribute("aria-pressed", String(!paused));
      pause.textContent = paused ? "Pause" : "Resume";
      if (paused) {
        setState("connecting");
        stream.start(); // resumes after the last row shown: nothing is missed
      } else {
        stream.stop();
      }
    });
  }
  setState("connecting");
  stream.start();
})();
