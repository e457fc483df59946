/** bench/chart.png: an SVG of six bar panels, rendered and screenshotted by the same Chromium. */
import { label } from "./report.mjs";

const COLORS = { cometa: "#0f8b8d", eio: "#ec9a29", other: "#8d99ae" };
const colorOf = (id) => (id.startsWith("cometa") ? COLORS.cometa : id.startsWith("eio") ? COLORS.eio : COLORS.other);
const esc = (s) => String(s).replace(/`/g, "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

const W = 390;
const H = 330;

/** bars: [{ label, value, color, text }] (horizontal); lines: [{ value, text }] vertical markers. */
function panel(x0, y0, title, bars, { lines = [], note } = {}) {
  const shown = bars.filter((b) => typeof b.value === "number" && Number.isFinite(b.value));
  const parts = [`<g transform="translate(${x0},${y0})">`];
  parts.push(`<text x="0" y="18" font-size="15" font-weight="600">${esc(title)}</text>`);
  if (note) parts.push(`<text x="0" y="36" font-size="11" fill="#555">${esc(note)}</text>`);
  if (shown.length === 0) {
    parts.push(`<text x="0" y="70" font-size="12" fill="#999">not measured</text></g>`);
    return parts.join("");
  }
  const left = 150;
  const right = W - 70;
  const top = 48;
  const max = Math.max(...shown.map((b) => b.value), ...lines.map((l) => l.value)) * 1.05;
  const row = Math.min(28, (H - top - 10) / shown.length);
  const scale = (v) => left + ((right - left) * v) / max;
  shown.forEach((b, i) => {
    const y = top + i * row;
    parts.push(`<text x="${left - 6}" y="${y + row * 0.62}" font-size="11" text-anchor="end">${esc(b.label)}</text>`);
    parts.push(`<rect x="${left}" y="${y + 3}" width="${Math.max(1, scale(b.value) - left)}" height="${row - 6}" fill="${b.color}" rx="2"/>`);
    parts.push(`<text x="${scale(b.value) + 4}" y="${y + row * 0.62}" font-size="11">${esc(b.text)}</text>`);
  });
  for (const l of lines) {
    const lx = scale(l.value);
    parts.push(`<line x1="${lx}" x2="${lx}" y1="${top - 4}" y2="${top + shown.length * row}" stroke="#c0392b" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${lx + 3}" y="${top + shown.length * row + 12}" font-size="10" fill="#c0392b">${esc(l.text)}</text>`);
  }
  parts.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + shown.length * row}" stroke="#333"/>`);
  parts.push("</g>");
  return parts.join("");
}

const us = (v) => (v < 1 ? `${(v * 1000).toFixed(0)} µs` : `${v.toFixed(2)} ms`);

export function chartHtml({ node, browser, idle, sizes, meta }) {
  const echoBars = (agg, ids, size = 32) =>
    ids.filter((id) => agg?.[id]).map((id) => ({ label: label(id).replace(/`/g, ""), value: agg[id].echo[size].p50, color: colorOf(id), text: agg[id].echo[size].p50 !== undefined ? us(agg[id].echo[size].p50) : "" }));
  const panels = [];
  panels.push(panel(0, 0, "Node: echo p50, 32 B, websocket", echoBars(node, ["cometa/websocket", "eio/websocket", "ws"]), { note: "lower is better" }));
  panels.push(
    panel(W, 0, "Node: echo p50, 32 B, HTTP transports", echoBars(node, ["cometa/polling", "eio/polling", "cometa/sse", "cometa/xhr-streaming"]), {
      note: "lower is better (short-polling: see RESULTS.md)",
    }),
  );
  const tput = [];
  for (const id of ["cometa/websocket", "eio/websocket", "ws", "cometa/polling", "eio/polling"]) {
    const a = node?.[id];
    if (!a) continue;
    tput.push({ label: `${label(id)} ↑`, value: a.upload, color: colorOf(id), text: a.upload ? `${(a.upload / 1000).toFixed(0)}k/s` : "" });
    tput.push({ label: `${label(id)} ↓`, value: a.download, color: colorOf(id), text: a.download ? `${(a.download / 1000).toFixed(0)}k/s` : "" });
  }
  panels.push(panel(2 * W, 0, "Node: throughput, 100 B messages", tput, { note: "messages/s, ↑ client→server, ↓ server→client; higher is better" }));
  panels.push(
    panel(
      0,
      H,
      "Chromium: echo p50, 32 B",
      echoBars(browser, ["cometa/websocket", "eio/websocket", "ws", "cometa/polling", "eio/polling", "cometa/sse", "cometa/xhr-streaming", "cometa/iframe", "cometa/jsonp"]),
      { note: "lower is better" },
    ),
  );
  const mem = Object.entries(idle ?? {})
    .filter(([, r]) => !r.error)
    .map(([t, r]) => ({ label: t, value: r.rssPerSession / 1024, color: t === "websocket" || t === "polling" ? COLORS.other : COLORS.cometa, text: `${(r.rssPerSession / 1024).toFixed(1)} KiB` }));
  const wsMem = idle?.websocket?.rssPerSession;
  panels.push(
    panel(W, H, "Server: RSS per idle session", mem, {
      note: "cometa/server on engine.io 6.6; lower is better",
      lines: wsMem ? [{ value: (wsMem * 1.5) / 1024, text: "1.5× websocket" }] : [],
    }),
  );
  const sizeBars = (sizes ?? []).map((r) => ({
    label: r.key,
    value: r.gzip / 1000,
    color: r.key.startsWith("cometa") || r.key.endsWith("-cometa") ? COLORS.cometa : r.key.startsWith("eio") ? COLORS.eio : COLORS.other,
    text: `${(r.gzip / 1000).toFixed(2)} KB`,
  }));
  panels.push(
    panel(2 * W, H, "Bundle size, min+gzip", sizeBars, {
      note: "targets: IIFE 9.0 KB, core IIFE 7.0 KB, ESM core 6.0 KB",
      lines: [{ value: 6, text: "6" }, { value: 7, text: "7" }, { value: 9, text: "9" }],
    }),
  );

  const legend = `<g transform="translate(0,${2 * H + 8})" font-size="12">
    <rect width="12" height="12" fill="${COLORS.cometa}"/><text x="18" y="11">cometa</text>
    <rect x="90" width="12" height="12" fill="${COLORS.eio}"/><text x="108" y="11">engine.io-client</text>
    <rect x="240" width="12" height="12" fill="${COLORS.other}"/><text x="258" y="11">reference (raw ws, stock transports, other libraries)</text>
    <text x="${3 * W - 10}" y="11" text-anchor="end" fill="#555">${esc(`${meta.cpu} · ${meta.cores} cores · Node ${meta.node} · Chromium ${meta.chromium ?? "–"} · ${meta.date}`)}</text></g>`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${3 * W + 20}" height="${2 * H + 30}" font-family="DejaVu Sans, Arial, sans-serif"><rect width="100%" height="100%" fill="#fff"/><g transform="translate(10,4)">${panels.join("")}${legend}</g></svg>`;
  return `<!doctype html><html><head><meta charset="utf-8"><style>body{margin:0;background:#fff}</style></head><body><div id="chart" style="display:inline-block">${svg}</div></body></html>`;
}
