/**
 * The cost of resumable sessions (docs/wire.md, "Resumable sessions"), against plain engine.io
 * sessions on the same cometa/server build, loopback only:
 *
 * 1. Memory: for each transport (long-polling, WebSocket) and each mode (the client offers
 *    `resume=1`, or does not), a fresh server process (--expose-gc) and a fresh swarm of raw
 *    clients (resume-swarm.mjs): warm-up, baseline after full GCs, `sessions` sessions opened
 *    (one echo each, acknowledged), two heartbeats, full GCs again; heap and RSS growth per
 *    session. Modes alternate between rounds, so drift cancels.
 * 2. Throughput: cometa's Node client forced onto WebSocket and onto long-polling, `resume` on
 *    and off, in alternating order, each in a fresh process (resume-client.mjs).
 * 3. Recovery: the time from a WebSocket reset at a TCP proxy to `resumed`, and to the session
 *    upgraded to WebSocket again, over `recoveryRuns` sessions.
 *
 * Every step is bounded; what fails is reported in its row and the phase goes on.
 */
import { join } from "node:path";
import { benchDir, median, sleep, spawnChild, startChild, waitForSessions, withTimeout } from "./util.mjs";



const startServer = (builds, pingInterval, engine = {}) =>
  startChild("server.mjs", { serverModule: builds.server, pingInterval, pingTimeout: Math.max(20000, pingInterval * 4), engine }, ["--expose-gc"]);

/** One transport, one mode: memory per idle session. */
async function measureMemory(builds, { transport, offer, sessions, warmupSessions, pingInterval }) {
  let server;
  let swarm;
  const started = Date.now();
  try {
    server = await startServer(builds, pingInterval);
    swarm = await startChild("resume-swarm.mjs", { url: server.value, transport, offer });
    const warm = await swarm.request({ type: "open", count: warmupSessions }, 60_000);
    if (warm.open === 0) throw new Error(`no session opens on ${transport}: ${warm.firstError}`);
    await swarm.request({ type: "close" });
    await waitForSessions(server, 0, 35_000);
    const before = await server.request({ type: "memory" });
    const opened = await swarm.request({ type: "open", count: sessions }, 180_000);
    // two heartbeats, so every session reached its steady state (a held poll, a pong posted)
    await sleep(Math.max(1000, 2 * pingInterval + 200));
    const after = await server.request({ type: "memory" });
    const status = await swarm.request({ type: "status" });
    const n = after.sessions - before.sessions;
    if (n <= 0) throw new Error(`no session held (${opened.firstError ?? "none opened"})`);
    return {
      sessions: n,
      failed: opened.failed,
      firstError: opened.firstError,
      granted: status.granted,
      lost: status.lost,
      heapPerSession: (after.heapUsed - before.heapUsed) / n,
      rssPerSession: (after.rss - before.rss) / n,
      externalPerSession: (after.external - before.external) / n,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await swarm?.request({ type: "close" }).catch(() => {});
    await swarm?.stop();
    await server?.stop();
  }
}

async function runClient(builds, url, plan) {
  let result;
  const child = spawnChild(join(benchDir, "lib/resume-client.mjs"), [JSON.stringify({ clientModule: builds.client, url, plan })], {
    execArgv: ["--expose-gc"],
    onMessage: (message) => message?.result && (result = message.result),
  });
  try {
    await withTimeout(child.exited, 3 * 60_000, `resume client ${plan.kind}`);
  } catch (error) {
    await child.stop(100);
    return { error: String(error.message) };
  }
  return result ?? { error: "client process exited without a result" };
}

const kib = (v) => `${(v / 1024).toFixed(2)} KiB`;

export async function measureResume(builds, settings, { log, deadline }) {
  const out = { memory: {}, throughput: {}, recovery: undefined, errors: [] };
  const late = () => Date.now() > deadline;

  // 1. memory
  const memoryRuns = [];
  for (let round = 0; round < settings.memoryRounds; round++) {
    for (const transport of ["websocket", "polling"]) {
      const modes = round % 2 === 0 ? [false, true] : [true, false];
      for (const offer of modes) {
        if (late()) {
          out.errors.push(`memory ${transport} round ${round + 1}: skipped, the run's time budget was spent`);
          continue;
        }
        try {
          const r = await measureMemory(builds, { transport, offer, sessions: settings.sessions, warmupSessions: 50, pingInterval: settings.pingInterval });
          memoryRuns.push({ transport, offer, ...r });
          log(
            `  resume memory ${transport} ${offer ? "resumable" : "plain    "} round ${round + 1}: ${r.sessions} sessions (${r.granted} granted resumption), ` +
              `${Math.round(r.heapPerSession)} B (${kib(r.heapPerSession)}) heap/session, ${kib(r.rssPerSession)} RSS/session${r.lost ? `, ${r.lost} lost` : ""} (${r.seconds.toFixed(0)} s)`,
          );
        } catch (error) {
          out.errors.push(`memory ${transport} ${offer ? "resumable" : "plain"} round ${round + 1}: ${error?.message ?? error}`);
          log(`  resume memory ${transport} ${offer ? "resumable" : "plain"}: FAILED ${error?.message ?? error}`);
        }
      }
    }
  }
  for (const transport of ["websocket", "polling"]) {
    const pick = (offer, key) => median(memoryRuns.filter((r) => r.transport === transport && r.offer === offer).map((r) => r[key]));
    const mode = (offer) => ({
      heapPerSession: pick(offer, "heapPerSession"),
      rssPerSession: pick(offer, "rssPerSession"),
      sessions: pick(offer, "sessions"),
      granted: pick(offer, "granted"),
      lost: pick(offer, "lost"),
      rounds: memoryRuns.filter((r) => r.transport === transport && r.offer === offer).length,
    });
    out.memory[transport] = { plain: mode(false), resumable: mode(true) };
  }

  // 2. throughput and 3. recovery share one server
  if (late()) {
    out.errors.push("throughput and recovery: skipped, the run's time budget was spent");
    return out;
  }
  // default options: a burst is written in one turn, before any acknowledgement can come back,
  // so it must fit in resume.maxBytes (16 MiB by default; the bench's is 2 MB)
  const server = await startServer(builds, 25000);
  try {
    const configs = [];
    for (const transport of ["websocket", "polling"]) for (const resume of [false, true]) configs.push({ transport, resume });
    const throughputRuns = [];
    for (let round = 0; round < settings.throughputRounds && !late(); round++) {
      for (const config of round % 2 === 0 ? configs : [...configs].reverse()) {
        const result = await runClient(builds, server.value, {
          kind: "throughput",
          ...config,
          size: settings.throughput.size,
          count: settings.throughput.count,
          repeats: settings.throughputRepeats,
          stepMs: settings.stepMs,
        });
        throughputRuns.push({ ...config, ...result });
        log(
          `  resume throughput ${config.transport} resume ${config.resume ? "on " : "off"} round ${round + 1}: ` +
            (result.error
              ? `FAILED ${result.error}`
              : `up ${(result.upload / 1000).toFixed(1)}k/s (${result.uploadCpu.toFixed(2)} µs CPU/msg), down ${(result.download / 1000).toFixed(1)}k/s (${result.downloadCpu.toFixed(2)} µs CPU/msg), resumable ${result.resumable}`),
        );
        if (result.error) out.errors.push(`throughput ${config.transport} resume ${config.resume ? "on" : "off"} round ${round + 1}: ${result.error}`);
      }
    }
    for (const { transport, resume } of configs) {
      const list = throughputRuns.filter((r) => r.transport === transport && r.resume === resume && !r.error);
      out.throughput[`${transport}/${resume ? "on" : "off"}`] = {
        upload: median(list.map((r) => r.upload)),
        download: median(list.map((r) => r.download)),
        uploadCpu: median(list.map((r) => r.uploadCpu)),
        downloadCpu: median(list.map((r) => r.downloadCpu)),
        resumable: list.length ? list.every((r) => r.resumable === true) : undefined,
        rounds: list.length,
      };
    }

    if (!late()) {
      const result = await runClient(builds, server.value, { kind: "recovery", runs: settings.recoveryRuns, stepMs: settings.stepMs });
      if (result.error) out.errors.push(`recovery: ${result.error}`);
      else {
        out.recovery = {
          runs: result.runs.length,
          resumedMs: median(result.runs.map((r) => r.resumedMs)),
          upgradedMs: median(result.runs.map((r) => r.upgradedMs)),
          resumedOn: [...new Set(result.runs.map((r) => r.resumedOn))],
          all: result.runs,
        };
        out.errors.push(...result.errors.map((e) => `recovery ${e}`));
        log(
          `  resume recovery: ${result.runs.length}/${settings.recoveryRuns} runs` +
            (result.runs.length
              ? `, reset → resumed median ${msCell(out.recovery.resumedMs)} (on ${out.recovery.resumedOn.join(", ")}), → websocket again median ${msCell(out.recovery.upgradedMs)}`
              : "") +
            (result.errors.length ? `; ${result.errors.join("; ")}` : ""),
        );
      }
    } else out.errors.push("recovery: skipped, the run's time budget was spent");
  } finally {
    await server.stop();
  }
  return out;
}

// ---------------------------------------------------------------- RESULTS.md

const ratio = (a, b) => (a === undefined || b === undefined || b === 0 ? undefined : a / b);
const times = (r) => (r === undefined ? "–" : `${r.toFixed(2)}×`);
const bytesCell = (v) => (v === undefined || !Number.isFinite(v) ? "–" : `${Math.round(v).toLocaleString("en")} B`);
const kibCell = (v) => (v === undefined || !Number.isFinite(v) ? "–" : `${(v / 1024).toFixed(2)} KiB`);
const rateCell = (v) => (v === undefined ? "–" : v >= 1e4 ? `${(v / 1000).toFixed(0)}k/s` : `${(v / 1000).toFixed(1)}k/s`);
const usCell = (v) => (v === undefined ? "–" : `${v.toFixed(2)} µs`);
const msCell = (v) => (v === undefined ? "–" : `${v.toFixed(1)} ms`);
const line = (cells) => `| ${cells.join(" | ")} |`;
const table = (header, rows) => [line(header), line(header.map((_, i) => (i === 0 ? "---" : "---:"))), ...rows.map(line)].join("\n");

/** The memory target: an idle resumable session ≤ 1.2× a plain one (V8 heap), per transport. */
export function resumeTarget(resume) {
  if (!resume) return undefined;
  const parts = ["websocket", "polling"].map((t) => ({
    t,
    r: ratio(resume.memory[t]?.resumable.heapPerSession, resume.memory[t]?.plain.heapPerSession),
    granted: resume.memory[t]?.resumable.granted,
  }));
  const known = parts.every((p) => p.r !== undefined);
  const granted = parts.every((p) => p.granted > 0);
  return {
    met: known && granted ? parts.every((p) => p.r <= 1.2) : undefined,
    detail: parts.map((p) => `${p.t} ${times(p.r)}`).join(", ") + " (heap)" + (known && !granted ? "; the server granted no resumption" : ""),
  };
}

export function resumeSection(resume, note) {
  if (!resume) return [];
  const out = ["## Resumable sessions", "", note, ""];
  out.push("### Server memory per idle session", "");
  out.push(
    table(
      ["transport", "mode", "sessions", "granted resumption", "heap / session", "× plain", "heap − plain", "RSS / session", "× plain"],
      ["websocket", "polling"].flatMap((t) => {
        const m = resume.memory[t];
        if (!m) return [];
        return ["plain", "resumable"].map((mode) => {
          const r = m[mode];
          return [
            t,
            mode === "plain" ? "plain (no offer)" : "resumable (`resume=1`)",
            `${r.sessions ?? "–"}${r.lost ? ` (${r.lost} lost)` : ""}`,
            String(r.granted ?? "–"),
            bytesCell(r.heapPerSession),
            times(ratio(r.heapPerSession, m.plain.heapPerSession)),
            mode === "plain" ? "" : bytesCell(r.heapPerSession - m.plain.heapPerSession),
            kibCell(r.rssPerSession),
            times(ratio(r.rssPerSession, m.plain.rssPerSession)),
          ];
        });
      }),
    ),
    "",
  );
  out.push("### Throughput, resume on against off (messages per second)", "");
  out.push(
    table(
      ["transport", "client → server, off", "on", "on × off", "server → client, off", "on", "on × off", "client CPU / msg ↑ off", "on", "↓ off", "on", "resumable when on"],
      ["websocket", "polling"].map((t) => {
        const off = resume.throughput[`${t}/off`] ?? {};
        const on = resume.throughput[`${t}/on`] ?? {};
        return [
          t,
          rateCell(off.upload),
          rateCell(on.upload),
          times(ratio(on.upload, off.upload)),
          rateCell(off.download),
          rateCell(on.download),
          times(ratio(on.download, off.download)),
          usCell(off.uploadCpu),
          usCell(on.uploadCpu),
          usCell(off.downloadCpu),
          usCell(on.downloadCpu),
          on.resumable === undefined ? "–" : on.resumable ? "yes" : "no",
        ];
      }),
    ),
    "",
  );
  out.push("### Recovery from a reset WebSocket", "");
  const rec = resume.recovery;
  out.push(
    rec
      ? table(
          ["runs", "reset → resumed, median", "resumed on", "reset → on WebSocket again, median", "each run: resumed / on WebSocket (ms)"],
          [[String(rec.runs), msCell(rec.resumedMs), rec.resumedOn.join(", ") || "–", msCell(rec.upgradedMs), rec.all.map((r) => `${r.resumedMs.toFixed(0)} / ${r.upgradedMs.toFixed(0)}`).join(", ")]],
        )
      : "Not measured.",
    "",
  );
  if (resume.errors.length) out.push(...resume.errors.map((e) => `- ${e.replace(/\n/g, " ")}`), "");
  return out;
}
