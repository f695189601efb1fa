/* chatdesk: the insights page (/admin/insights). Reads /api/insights for the chosen range
 * and draws the tiles, conversations per day (Chart.js, vendored in static/vendor/), the
 * busiest hours of the week as a table whose cells are shaded by their count, and the
 * per-agent counts. */

import { gettext, interpolate } from "./i18n.js";
import "./page.js";
import { el } from "./util.js";

const root = document.getElementById("insights");
const status = document.getElementById("insights-status");
const lang = document.documentElement.lang || "en";

/* A duration in seconds, as people read it: "45 s", "3 min", "2 h 5 min", "3 d 4 h". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.round(seconds);
  if (s < 60) return interpolate(gettext("%(n)s s"), { n: s });
  const minutes = Math.round(s / 60);
  if (minutes < 60) return interpolate(gettext("%(n)s min"), { n: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return interpolate(gettext("%(h)s h %(m)s min"), { h: hours, m: minutes % 60 });
  return interpolate(gettext("%(d)s d %(h)s h"), { d: Math.floor(hours / 24), h: hours % 24 });
}

function setText(id, text) {
  document.getElementById(id).textContent = text;
}

function tiles(data) {
  const number = new Intl.NumberFormat(lang);
  setText("t-conversations", number.format(data.totals.conversations));
  setText("t-resolved", number.format(data.totals.resolved));
  setText("t-fr-median", duration(data.first_response.median));
  setText("t-fr-p90", duration(data.first_response.p90));
  setText("t-res-median", duration(data.resolution.median));
  setText("t-res-p90", duration(data.resolution.p90));
}

let chart = null;

function perDay(data) {
  const canvas = document.getElementById("per-day-chart");
  const dayFormat = new Intl.DateTimeFormat(lang, { day: "numeric", month: "short", timeZone: "UTC" });
  const labels = data.per_day.map(function (row) {
    return dayFormat.format(new Date(row.date + "T00:00:00Z"));
  });
  const counts = data.per_day.map(function (row) {
    return row.count;
  });
  const total = counts.reduce(function (a, b) {
    return a + b;
  }, 0);
  canvas.setAttribute(
    "aria-label",
    interpolate(gettext("Conversations per day: %(total)s in %(days)s days"), { total: total, days: counts.length })
  );
  if (typeof window.Chart !== "function") {
    canvas.replaceWith(el("p", "hint", gettext("The chart could not be loaded.")));
    return;
  }
  if (chart) chart.destroy();
  chart = new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: labels,
      datasets: [{ label: gettext("Conversations"), data: counts, backgroundColor: "#4f46e5", borderRadius: 3 }],
    },
    options: {
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { display: false } },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, x: { ticks: { maxRotation: 0, autoSkip: true } } },
    },
  });
}

function weekdayNames() {
  // 2024-01-01 was a Monday: the server counts Monday as 0.
  const format = new Intl.DateTimeFormat(lang, { weekday: "short", timeZone: "UTC" });
  const names = [];
  for (let day = 0; day < 7; day++) names.push(format.format(new Date(Date.UTC(2024, 0, 1 + day))));
  return names;
}

function heatmap(data) {
  const table = document.getElementById("heatmap");
  table.replaceChildren();
  const max = Math.max(1, ...data.heatmap.flat());
  const caption = el("caption", "sr-only", gettext("Conversations started, by weekday and hour"));
  const head = el("tr");
  head.append(el("th", null, ""));
  for (let hour = 0; hour < 24; hour++) {
    const th = el("th", "hm-hour", String(hour).padStart(2, "0"));
    th.scope = "col";
    head.append(th);
  }
  const thead = el("thead");
  thead.append(head);
  const tbody = el("tbody");
  weekdayNames().forEach(function (name, day) {
    const row = el("tr");
    const th = el("th", "hm-day", name);
    th.scope = "row";
    row.append(th);
    data.heatmap[day].forEach(function (count, hour) {
      const cell = el("td", "hm-cell", count ? String(count) : "");
      const level = count / max;
      cell.style.backgroundColor = count ? "rgba(79, 70, 229, " + (0.12 + 0.88 * level).toFixed(2) + ")" : "";
      if (level > 0.55) cell.classList.add("hm-dark");
      cell.title = interpolate(gettext("%(day)s %(hour)s:00 — %(count)s conversations"), {
        day: name,
        hour: String(hour).padStart(2, "0"),
        count: count,
      });
      row.append(cell);
    });
    tbody.append(row);
  });
  table.append(caption, thead, tbody);
}

function agents(data) {
  const rows = document.getElementById("agents-rows");
  rows.replaceChildren();
  data.agents.forEach(function (agent) {
    const row = el("tr");
    const name = el("th", null, agent.name);
    name.scope = "row";
    row.append(name, el("td", null, String(agent.assigned)), el("td", null, String(agent.resolved)));
    rows.append(row);
  });
  document.getElementById("agents-empty").hidden = data.agents.length > 0;
}

async function load() {
  const query = new URLSearchParams({ from: root.dataset.from, to: root.dataset.to });
  try {
    const answer = await fetch("/api/insights?" + query.toString(), { credentials: "same-origin" });
    if (answer.status === 401) {
      window.location.href = "/login";
      return;
    }
    const data = await answer.json();
    if (!answer.ok) throw new Error(data.error || answer.statusText);
    tiles(data);
    perDay(data);
    heatmap(data);
    agents(data);
    status.textContent = interpolate(gettext("%(from)s – %(to)s, %(zone)s time"), {
      from: data.from,
      to: data.to,
      zone: data.time_zone,
    });
    root.dataset.loaded = "1";
  } catch (error) {
    status.textContent = gettext("The numbers could not be loaded. Reload the page to try again.");
  }
}

load();
