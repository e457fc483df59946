/** Medians over rounds, ratios against engine.io-client, the targets, and RESULTS.md. */
import { resumeSection, resumeTarget } from "./resume.mjs";
import { ioSection, ioTarget } from "./socket-io.mjs";
import { median } from "./util.mjs";

const KB = 1000;

/** runs: [{ id, round, result }] -> { id: aggregated } with medians over the rounds that produced a value. */
export function aggregate(runs) {
  const byId = new Map();
  for (const run of runs) {
    if (!byId.has(run.id)) byId.set(run.id, []);
    byId.get(run.id).push(run);
  }
  const out = {};
  for (const [id, list] of byId) {
    const pick = (path) => median(list.map((run) => path.reduce((value, key) => value?.[key], run.result)));
    const rounds = (path) => list.filter((run) => typeof path.reduce((v, k) => v?.[k], run.result) === "number").length;
    const echo = {};
    for (const size of [32, 16384]) {
      echo[size] = {
        p50: pick(["echo", size, "p50"]),
        p95: pick(["echo", size, "p95"]),
        p99: pick(["echo", size, "p99"]),
        n: pick(["echo", size, "n"]),
        cpu: pick(["echo", size, "cpuUsPerMessage"]),
        rounds: rounds(["echo", size, "p50"]),
      };
    }
    out[id] = {
      rounds: list.length,
      open: pick(["connect", "open", "p50"]),
      upgrade: pick(["connect", "upgrade", "p50"]),
      total: pick(["connect", "total", "p50"]),
      connects: pick(["connect", "open", "n"]),
      echo,
      upload: pick(["upload", "perSecond"]),
      download: pick(["download", "perSecond"]),
      uploadCpu: pick(["upload", "cpuUsPerMessage"]),
      downloadCpu: pick(["download", "cpuUsPerMessage"]),
      errors: list.flatMap((run) => (run.result.errors ?? []).map((e) => `round ${run.round + 1}: ${e}`)),
    };
  }
  return out;
}

// ---------------------------------------------------------------- formatting

const ms = (v) => (v === undefined ? "–" : v < 1 ? `${(v * 1000).toFixed(0)} µs` : v < 100 ? `${v.toFixed(2)} ms` : `${v.toFixed(0)} ms`);
const rate = (v) => (v === undefined ? "–" : v >= 1e4 ? `${(v / 1000).toFixed(0)}k/s` : `${(v / 1000).toFixed(1)}k/s`);
const kb = (v) => (v === undefined ? "–" : `${(v / KB).toFixed(2)} KB`);
const kib = (v) => (v === undefined || !Number.isFinite(v) ? "–" : `${(v / 1024).toFixed(1)} KiB`);
const ratio = (a, b) => (a === undefined || b === undefined || b === 0 ? undefined : a / b);
const us = (v) => (v === undefined ? "–" : `${v.toFixed(1)} µs`);
const x = (r) => (r === undefined ? "–" : `${r.toFixed(2)}×`);

function table(header, rows) {
  const line = (cells) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? "---" : "---:"))), ...rows.map(line)].join("\n");
}

/** The engine.io-client row a cometa row is compared with: same transport, else long-polling. */
function reference(id) {
  if (id.startsWith("eio/")) return undefined;
  if (id === "ws") return "eio/websocket";
  const transport = id.split("/")[1];
  if (transport === "upgrade") return "eio/upgrade";
  return transport === "websocket" ? "eio/websocket" : "eio/polling";
}

const label = (id) =>
  ({
    ws: "raw `ws` (floor)",
    "eio/upgrade": "engine.io-client (polling → websocket)",
    "cometa/upgrade": "cometa (polling → websocket)",
  })[id] ?? (id.startsWith("eio/") ? `engine.io-client ${id.slice(4)}` : `cometa ${id.slice(7)}`);

function connectTable(agg, ids) {
  const rows = ids
    .filter((id) => agg[id])
    .map((id) => {
      const a = agg[id];
      const ref = agg[reference(id)];
      const upgrading = a.total !== undefined;
      return [
        label(id),
        ms(a.open),
        upgrading ? ms(a.upgrade) : "",
        upgrading ? ms(a.total) : "",
        x(ratio(upgrading ? a.total : a.open, upgrading ? ref?.total : ref?.open)),
      ];
    });
  return table(["client", "new → open", "open → upgraded", "new → upgraded", "× eio"], rows);
}

function echoTable(agg, ids) {
  const withCpu = ids.some((id) => agg[id]?.echo[32].cpu !== undefined);
  const rows = ids
    .filter((id) => agg[id]?.echo[32].p50 !== undefined || agg[id]?.echo[16384].p50 !== undefined)
    .map((id) => {
      const a = agg[id];
      const ref = agg[reference(id)];
      return [
        label(id),
        ms(a.echo[32].p50),
        ms(a.echo[32].p95),
        ms(a.echo[32].p99),
        x(ratio(a.echo[32].p50, ref?.echo[32].p50)),
        ms(a.echo[16384].p50),
        ms(a.echo[16384].p95),
        ms(a.echo[16384].p99),
        x(ratio(a.echo[16384].p50, ref?.echo[16384].p50)),
        String(a.echo[32].n ?? "–"),
        ...(withCpu ? [us(a.echo[32].cpu), us(a.echo[16384].cpu)] : []),
      ];
    });
  const header = ["client", "32 B p50", "p95", "p99", "p50 × eio", "16 KB p50", "p95", "p99", "p50 × eio", "echoes"];
  return table(withCpu ? [...header, "client CPU / echo, 32 B", "16 KB"] : header, rows);
}

function throughputTable(agg, ids) {
  const withCpu = ids.some((id) => agg[id]?.uploadCpu !== undefined);
  const rows = ids
    .filter((id) => agg[id] && (agg[id].upload !== undefined || agg[id].download !== undefined))
    .map((id) => {
      const a = agg[id];
      const ref = agg[reference(id)];
      return [
        label(id),
        rate(a.upload),
        x(ratio(a.upload, ref?.upload)),
        rate(a.download),
        x(ratio(a.download, ref?.download)),
        ...(withCpu ? [us(a.uploadCpu), us(a.downloadCpu)] : []),
      ];
    });
  const header = ["client", "client → server", "× eio", "server → client", "× eio"];
  return table(withCpu ? [...header, "client CPU / msg ↑", "↓"] : header, rows);
}

// ---------------------------------------------------------------- targets

const within = (value, limit) => (value === undefined || limit === undefined ? undefined : value <= limit);
const allOf = (...checks) => (checks.some((c) => c === undefined) ? undefined : checks.every(Boolean));

/** Each target, per environment: { name, node: {met, detail}, chromium: {met, detail} }. */
export function evaluateTargets({ node, browser, sizes, idle, io, resume }) {
  const targets = [];
  const env = (agg) => {
    if (!agg) return undefined;
    const c = (id) => agg[id];
    return {
      wsEcho() {
        const [cw, ew, raw] = [c("cometa/websocket"), c("eio/websocket"), c("ws")];
        if (!cw || !ew || !raw) return undefined;
        const parts = [32, 16384].map((size) => ({
          size,
          eio: ratio(cw.echo[size].p50, ew.echo[size].p50),
          raw: ratio(cw.echo[size].p50, raw.echo[size].p50),
        }));
        return {
          met: allOf(...parts.flatMap((p) => [within(p.eio, 1.05), within(p.raw, 1.15)])),
          detail: parts.map((p) => `${p.size === 32 ? "32 B" : "16 KB"}: ${x(p.eio)} eio, ${x(p.raw)} ws`).join("; "),
        };
      },
      pollingEcho() {
        const [cp, ep] = [c("cometa/polling"), c("eio/polling")];
        if (!cp || !ep) return undefined;
        const e32 = ratio(cp.echo[32].p50, ep.echo[32].p50);
        const e16 = ratio(cp.echo[16384].p50, ep.echo[16384].p50);
        const up = ratio(cp.upload, ep.upload);
        const down = ratio(cp.download, ep.download);
        return {
          met: allOf(within(e32, 1), within(e16, 1), up === undefined ? undefined : up >= 1, down === undefined ? undefined : down >= 1),
          detail: `echo p50 ${x(e32)} / ${x(e16)} (32 B / 16 KB, ≤1); throughput ${x(up)} up, ${x(down)} down (≥1)`,
        };
      },
      wsThroughput() {
        const [cw, ew] = [c("cometa/websocket"), c("eio/websocket")];
        if (!cw || !ew) return undefined;
        const up = ratio(cw.upload, ew.upload);
        const down = ratio(cw.download, ew.download);
        return {
          met: allOf(up === undefined ? undefined : up >= 1, down === undefined ? undefined : down >= 1),
          detail: `${x(up)} up, ${x(down)} down (≥1)`,
        };
      },
      upgrade() {
        const [cu, eu] = [c("cometa/upgrade"), c("eio/upgrade")];
        if (!cu || !eu) return undefined;
        const r = ratio(cu.total, eu.total);
        return { met: within(r, 1), detail: `new → upgraded ${ms(cu.total)} vs ${ms(eu.total)} (${x(r)})` };
      },
    };
  };
  const n = env(node);
  const b = env(browser);
  const both = (name, key) => targets.push({ name, node: n?.[key](), chromium: b?.[key]() });
  both("websocket echo p50 ≤ 1.05× engine.io-client and ≤ 1.15× raw ws", "wsEcho");
  both("long-polling echo p50 and throughput at least engine.io-client's", "pollingEcho");
  both("websocket throughput at least engine.io-client's", "wsThroughput");
  both("connect to upgraded no slower than engine.io-client", "upgrade");
  if (io) {
    targets.push({
      name: "socket.io-client on cometa ≤ 1.05× on engine.io-client: emit-with-ack p50 (websocket, long-polling), io() → upgraded",
      node: ioTarget(io.node, { x }),
      chromium: ioTarget(io.chromium, { x }),
    });
  }

  if (sizes) {
    const iife = sizes.find((r) => r.key === "cometa-iife");
    const core = sizes.find((r) => r.key === "cometa-core");
    const coreIife = sizes.find((r) => r.key === "cometa-core-iife");
    targets.push({
      name: "polling + websocket IIFE ≤ 7.0 KB min+gzip",
      any: { met: within(coreIife?.gzip, 7 * KB), detail: `\`cometa.core.min.js\` ${kb(coreIife?.gzip)}` },
    });
    targets.push({
      name: "full IIFE ≤ 9.0 KB min+gzip; ESM polling + websocket ≤ 6.0 KB min+gzip",
      any: {
        met: allOf(within(iife?.gzip, 9 * KB), within(core?.gzip, 6 * KB)),
        detail: `IIFE ${kb(iife?.gzip)}, ESM core ${kb(core?.gzip)}`,
      },
    });
  }
  if (sizes) {
    const sio = sizes.find((r) => r.key === "sio");
    const sioCometa = sizes.find((r) => r.key === "sio-cometa");
    if (sio && sioCometa) {
      targets.push({
        name: "`socket.io.min.js` on cometa (7 transports) ≤ socket.io's own `socket.io.min.js` min+gzip",
        any: {
          met: within(sioCometa.gzip, sio.gzip),
          detail: `${kb(sioCometa.gzip)} vs ${kb(sio.gzip)} (${x(ratio(sioCometa.gzip, sio.gzip))})`,
        },
      });
    }
  }
  if (idle) {
    const ws = idle.websocket?.rssPerSession;
    const parts = ["sse", "xhr-streaming", "iframe"].map((t) => ({ t, r: ratio(idle[t]?.rssPerSession, ws) }));
    targets.push({
      name: "streaming transports' server memory per idle session ≤ 1.5× a websocket session",
      any: { met: allOf(...parts.map((p) => within(p.r, 1.5))), detail: parts.map((p) => `${p.t} ${x(p.r)}`).join(", ") + " (RSS)" },
    });
  }
  if (resume) {
    targets.push({ name: "server memory per idle resumable session ≤ 1.2× a plain one", any: resumeTarget(resume) });
  }
  return targets;
}

const verdict = (check) => (!check ? "not measured" : check.met === undefined ? "incomplete" : check.met ? "met" : "NOT MET");

export function targetLines(targets) {
  const lines = [];
  for (const target of targets) {
    if (target.any) lines.push(`${verdict(target.any).padEnd(12)} ${target.name}: ${target.any.detail}`);
    else {
      for (const envName of ["node", "chromium"]) {
        const check = target[envName];
        if (check) lines.push(`${verdict(check).padEnd(12)} [${envName}] ${target.name}: ${check.detail}`);
      }
    }
  }
  return lines;
}

// ---------------------------------------------------------------- RESULTS.md

export function renderMarkdown(data) {
  const { meta, node, browser, idle, sizes, targets, settings, io, resume } = data;
  const out = [];
  out.push("# cometa benchmarks", "");
  out.push(
    `Generated by \`npm run bench\` (\`node bench/run.mjs${meta.argv ? " " + meta.argv : ""}\`) on ${meta.date}, in ${meta.seconds.toFixed(0)} s. ` +
      `Every figure is the median over rounds (${settings.nodeRounds} in Node, ${settings.browserRounds} in Chromium) in which the clients ran in turn, ` +
      "alternating, each in a fresh process (Node) or browser context (Chromium). Ratios (× eio) are against engine.io-client in the same run: " +
      "same transport, else its long-polling; below 1 is faster for latencies, above 1 is better for throughput.",
    "",
  );
  if (meta.quick) out.push(`> ${meta.quick}`, "");
  if (meta.noisy) out.push(`> ${meta.noisy}`, "");
  out.push("## Machine and versions", "");
  out.push(
    table(
      ["", ""],
      [
        ["CPU", `${meta.cpu} (${meta.cores} cores)`],
        ["memory", `${(meta.memory / 1024 ** 3).toFixed(1)} GiB`],
        ["OS", meta.os],
        ["Node", meta.node],
        ["Chromium", meta.chromium ?? "not run"],
        ["cometa", `${meta.cometa} (${meta.git}), measured from ${meta.buildSource}`],
        ...Object.entries(meta.packages).map(([name, version]) => [name, version]),
      ],
    ),
    "",
  );

  out.push("## Targets", "");
  out.push(
    table(
      ["target", "Node", "Chromium"],
      targets.map((t) =>
        t.any
          ? [t.name, `**${verdict(t.any)}**: ${t.any.detail}`, ""]
          : [t.name, t.node ? `**${verdict(t.node)}**: ${t.node.detail}` : "not measured", t.chromium ? `**${verdict(t.chromium)}**: ${t.chromium.detail}` : "not measured"],
      ),
    ),
    "",
  );

  const envSection = (title, agg, ids, note) => {
    if (!agg) return;
    out.push(`## ${title}`, "");
    if (note) out.push(note, "");
    out.push("### Connect (median handshake)", "", connectTable(agg, ids.connect), "");
    out.push(`### Echo round trip, ${settings.echoCount.toLocaleString("en")} sequential messages`, "", echoTable(agg, ids.transports), "");
    out.push(
      `### One-way throughput, ${settings.throughput.count.toLocaleString("en")} messages of ${settings.throughput.size} B (messages per second)`,
      "",
      throughputTable(agg, ids.transports),
      "",
    );
  };
  envSection("Node", node, settings.nodeIds, settings.nodeNote);
  envSection("Chromium", browser, settings.browserIds, settings.browserNote);
  out.push(...ioSection("socket.io-client on cometa, Node", io?.node, settings.ioNodeNote, settings.ackCount, { ms, x }));
  out.push(...ioSection("socket.io-client on cometa, Chromium", io?.chromium, settings.ioBrowserNote, settings.ackCount, { ms, x }));

  if (idle) {
    out.push("## Server: idle sessions, per transport", "");
    out.push(settings.idleNote, "");
    const ws = idle.websocket;
    out.push(
      table(
        ["transport", "sessions", "RSS / session", "× websocket", "heap / session", "× websocket", `CPU ms/s per 1,000 (ping every ${settings.pingInterval / 1000} s)`, "× websocket"],
        Object.entries(idle).map(([t, r]) =>
          r.error
            ? [t, "–", r.error, "", "", "", "", ""]
            : [
                t,
                `${r.sessions}${r.failed ? ` (${r.failed} failed)` : ""}${r.lost ? ` (${r.lost} lost)` : ""}`,
                kib(r.rssPerSession),
                x(ratio(r.rssPerSession, ws?.rssPerSession)),
                kib(r.heapPerSession),
                x(ratio(r.heapPerSession, ws?.heapPerSession)),
                r.cpuMsPerSecondPer1000.toFixed(1),
                x(ratio(r.cpuMsPerSecondPer1000, ws?.cpuMsPerSecondPer1000)),
              ],
        ),
      ),
      "",
    );
  }

  out.push(...resumeSection(resume, settings.resumeNote));

  if (sizes) {
    out.push("## Bundle sizes", "");
    out.push("1 KB = 1000 bytes; gzip level 9, brotli quality 11 (as `npm run size`).", "");
    const eio = sizes.find((r) => r.key === "eio");
    out.push(
      table(
        ["bundle", "min", "min+gzip", "× eio", "brotli", "× eio"],
        sizes.map((r) => [r.label, kb(r.raw), kb(r.gzip), x(ratio(r.gzip, eio?.gzip)), kb(r.brotli), x(ratio(r.brotli, eio?.brotli))]),
      ),
      "",
    );
  }

  out.push("## Method", "", ...settings.method.map((line) => `- ${line}`), "");
  const errors = [
    ...Object.entries(node ?? {}).flatMap(([id, a]) => a.errors.map((e) => `Node ${label(id)}: ${e}`)),
    ...Object.entries(browser ?? {}).flatMap(([id, a]) => a.errors.map((e) => `Chromium ${label(id)}: ${e}`)),
    ...(meta.errors ?? []),
  ];
  if (errors.length) out.push("## Errors during the run", "", ...errors.map((e) => `- ${e.replace(/\n/g, " ")}`), "");
  out.push("![chart](chart.png)", "");
  return out.join("\n");
}

export { label, ms, rate, kb, kib, ratio };
