#!/usr/bin/env node
/**
 * `npm run bench`: cometa against engine.io-client (and raw `ws`) on loopback, in Node and in
 * Chromium, socket.io-client on cometa against socket.io-client on engine.io-client, plus the
 * server's cost per idle session, the cost of resumable sessions and the bundle sizes. Writes
 * bench/RESULTS.md and bench/chart.png and prints each target as met or not. A benchmark, not a
 * test: the exit code is 0 whatever the numbers (1 only if the bench itself broke).
 *
 *   node bench/run.mjs [--quick] [--node-only] [--only=sizes,node,browser,socketio,idle,resume]
 *                      [--rounds=N] [--browser-rounds=N] [--sessions=N] [--dist] [--no-chart] [--out=FILE]
 *
 * --quick           smoke run: one round, fewer messages and sessions (about 2 minutes)
 * --node-only       no Chromium measurements (the chart is still drawn if Chromium exists)
 * --only=LIST       run only these phases (socketio runs in Node and, unless --node-only, Chromium)
 * --rounds=N        Node rounds (default 5); --browser-rounds=N Chromium rounds (default 2)
 * --sessions=N      idle sessions per transport for the server's memory (default 2000; the
 *                   resume phase holds as many per transport and mode)
 * --dist            measure dist/ as built (default: build src/ in memory, like rollup.config.mjs)
 * --no-chart        skip bench/chart.png
 * --out=FILE        write the results there instead of bench/RESULTS.md (for runs of some phases)
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { CHROMIUM, launchBrowser, probeClock, runInBrowser, screenshot } from "./lib/browser.mjs";
import { prepareBuilds } from "./lib/build.mjs";
import { chartHtml } from "./lib/chart.mjs";
import { measureIdle } from "./lib/idle.mjs";
import { measureResume } from "./lib/resume.mjs";
import { aggregate, evaluateTargets, label, renderMarkdown, targetLines } from "./lib/report.mjs";
import { measureSizes } from "./lib/sizes.mjs";
import { aggregateIo, ioConfigs, ioPlan, runIoBrowser, runIoNode, startIoServer } from "./lib/socket-io.mjs";
import { benchDir, killChildren, root, spawnChild, withTimeout } from "./lib/util.mjs";

// ---------------------------------------------------------------- options

const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const value = (name, fallback) => {
  const arg = args.find((a) => a.startsWith(`--${name}=`));
  return arg ? arg.slice(name.length + 3) : fallback;
};
for (const arg of args) {
  if (!/^--(quick|node-only|dist|no-chart|help|(only|rounds|browser-rounds|sessions|out)=.+)$/.test(arg)) {
    console.error(`unknown argument ${arg}; see the header of bench/run.mjs`);
    process.exit(2);
  }
}
if (flag("help")) {
  console.log(readFileSync(new URL(import.meta.url), "utf8").split("*/")[0]);
  process.exit(0);
}
const quick = flag("quick");
const phases = new Set(value("only", "sizes,node,browser,socketio,idle,resume").split(","));
const chromiumWanted = !flag("node-only");
if (!chromiumWanted) phases.delete("browser");
const integer = (name, fallback) => {
  const n = Number(value(name, fallback));
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} takes a positive integer`);
  return n;
};

const settings = {
  nodeRounds: integer("rounds", quick ? 1 : 5),
  browserRounds: integer("browser-rounds", quick ? 1 : 2),
  echoCount: quick ? 200 : 1000,
  slowEchoCount: quick ? 30 : 100,
  throughput: { size: 100, count: quick ? 5000 : 20000 },
  nodeConnects: quick ? 3 : 10,
  browserConnects: quick ? 3 : 5,
  warmup: quick ? 50 : 100,
  ackCount: quick ? 200 : 1000,
  shortPollInterval: 20,
  sessions: integer("sessions", quick ? 300 : 2000),
  pingInterval: 2000,
  cpuWindowMs: quick ? 3000 : 6000,
  throughputRepeats: quick ? 1 : 3,
  browserThroughputRepeats: quick ? 1 : 2,
  stepMs: 30_000,
  resumeMemoryRounds: quick ? 1 : 3,
  resumeThroughputRounds: quick ? 1 : 5,
  recoveryRuns: quick ? 3 : 7,
  // soft budgets: a phase starts no new round after its budget; the idle phase no new transport
  nodeBudgetMs: 5 * 60_000,
  browserBudgetMs: 4 * 60_000,
  ioBudgetMs: 3 * 60_000,
  totalBudgetMs: 13 * 60_000,
  // the resume phase: memory (2 transports × 2 modes × rounds), throughput and recovery
  resumeBudgetMs: 8 * 60_000,
};

const started = Date.now();
const log = (line) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);

// ---------------------------------------------------------------- configurations

const transportConfig = (client, transport, extra = {}) => ({ id: `${client}/${transport}`, spec: { client, transport, ...extra } });
const shortPolling = () => transportConfig("cometa", "short-polling", { pollInterval: settings.shortPollInterval });
/** Alternating: each engine.io-client configuration next to cometa's, raw ws beside them. */
const nodeConfigs = [
  transportConfig("eio", "polling"),
  transportConfig("cometa", "polling"),
  transportConfig("eio", "websocket"),
  transportConfig("cometa", "websocket"),
  { id: "ws", spec: { client: "ws" } },
  transportConfig("cometa", "sse"),
  transportConfig("cometa", "xhr-streaming"),
  shortPolling(),
  { id: "eio/upgrade", spec: { client: "eio", upgrade: true }, upgradeTo: "websocket" },
  { id: "cometa/upgrade", spec: { client: "cometa", upgrade: true }, upgradeTo: "websocket" },
];
const browserConfigs = [
  ...nodeConfigs.slice(0, 7),
  transportConfig("cometa", "iframe"),
  transportConfig("cometa", "jsonp"),
  shortPolling(),
  ...nodeConfigs.slice(8),
];
const ids = (configs) => ({
  connect: configs.map((c) => c.id),
  transports: configs.filter((c) => !c.upgradeTo).map((c) => c.id),
});

function planFor(config, url, connects, browser = false) {
  const slow = config.spec.transport === "short-polling";
  const echo = slow ? settings.slowEchoCount : settings.echoCount;
  return {
    url,
    spec: config.spec,
    connects,
    upgradeTo: config.upgradeTo,
    warmup: config.upgradeTo ? 0 : slow ? 10 : settings.warmup,
    echo: config.upgradeTo ? [] : [{ size: 32, count: echo }, { size: 16384, count: echo }],
    throughput: config.upgradeTo ? undefined : settings.throughput,
    repeats: browser ? settings.browserThroughputRepeats : settings.throughputRepeats,
    stepMs: settings.stepMs,
  };
}

/** The order of round `r`: forward on even rounds, backward on odd ones, so drift cancels. */
const orderFor = (configs, r) => (r % 2 === 0 ? configs : [...configs].reverse());

// ---------------------------------------------------------------- phases

async function startServer(builds) {
  const files = {
    "/bench/cometa.min.js": [builds.iife, "text/javascript; charset=utf-8"],
    "/bench/engine.io.min.js": [join(root, "node_modules/engine.io-client/dist/engine.io.min.js"), "text/javascript; charset=utf-8"],
    "/bench/scenarios.js": [join(benchDir, "lib/scenarios.js"), "text/javascript; charset=utf-8"],
  };
  let ready;
  const url = new Promise((resolve) => (ready = resolve));
  const server = spawnChild(join(benchDir, "lib/server.mjs"), [JSON.stringify({ serverModule: builds.server, files })], {
    onMessage: (message) => message?.ready && ready(message.ready),
  });
  server.url = await withTimeout(Promise.race([url, server.exited.then(() => Promise.reject(new Error("server exited")))]), 20000, "server start");
  return server;
}

async function runNodePlan(builds, plan) {
  let result;
  const child = spawnChild(join(benchDir, "lib/node-client.mjs"), [JSON.stringify({ clientModule: builds.client, plan })], {
    execArgv: ["--expose-gc"],
    onMessage: (message) => message?.result && (result = message.result),
  });
  try {
    await withTimeout(child.exited, 4 * 60_000, `node client ${plan.spec.client}`);
  } catch (error) {
    await child.stop(100);
    return { errors: [String(error.message)] };
  }
  return result ?? { errors: ["client process exited without a result"] };
}

async function measureRounds(name, configs, rounds, budgetMs, runOne) {
  const runs = [];
  const phaseStart = Date.now();
  let done = 0;
  for (let round = 0; round < rounds; round++) {
    if (round > 0 && Date.now() - phaseStart > budgetMs) {
      log(`${name}: time budget spent, stopping after ${round} round(s)`);
      break;
    }
    for (const config of orderFor(configs, round)) {
      const t = Date.now();
      const result = await runOne(config);
      runs.push({ id: config.id, round, result });
      const e = result.echo?.[32];
      log(
        `${name} round ${round + 1}/${rounds} ${label(config.id).padEnd(40)} ` +
          [
            result.connect?.total ? `upgraded ${result.connect.total.p50.toFixed(1)} ms` : result.connect?.open ? `open ${result.connect.open.p50.toFixed(2)} ms` : "",
            result.connect?.upgraded ? `upgraded ${result.connect.upgraded.p50.toFixed(1)} ms` : "",
            e ? `echo32 p50 ${(e.p50 * 1000).toFixed(0)} µs` : "",
            result.ack ? `ack p50 ${(result.ack.p50 * 1000).toFixed(0)} µs` : "",
            result.upload ? `up ${(result.upload.perSecond / 1000).toFixed(0)}k/s` : "",
            result.download ? `down ${(result.download.perSecond / 1000).toFixed(0)}k/s` : "",
            result.errors?.length ? `ERRORS: ${result.errors.join("; ")}` : "",
            `(${((Date.now() - t) / 1000).toFixed(1)} s)`,
          ]
            .filter(Boolean)
            .join(", "),
      );
    }
    done = round + 1;
  }
  return { runs, rounds: done };
}

// ---------------------------------------------------------------- metadata

function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return "missing";
  }
}

function git(...argv) {
  try {
    return execFileSync("git", argv, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}

function chromiumVersion() {
  try {
    return /Chromium ([\d.]+)/.exec(execFileSync(CHROMIUM, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }))?.[1];
  } catch {
    return undefined;
  }
}

function metadata() {
  const cpus = os.cpus();
  const load = os.loadavg()[0];
  const dirty = git("status", "--porcelain", "--", "src") ? ", src/ modified" : "";
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    argv: args.join(" "),
    cpu: cpus[0]?.model?.trim() ?? "unknown",
    cores: cpus.length,
    memory: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    cometa: JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version,
    git: `${git("rev-parse", "--short", "HEAD") || "no git"}${dirty}`,
    load,
    quick: quick ? "A --quick smoke run: one round, fewer messages and sessions. Do not compare its numbers; run `npm run bench`." : undefined,
    noisy:
      load > cpus.length * 0.5
        ? `The machine was busy when this run started (load average ${load.toFixed(2)} on ${cpus.length} cores): treat small differences as noise and rerun on a quiet machine.`
        : undefined,
    packages: Object.fromEntries(
      ["engine.io", "engine.io-client", "engine.io-parser", "socket.io-client", "sockjs-client", "ws", "eventsource", "playwright-core", "rollup", "@rollup/plugin-terser", "esbuild"].map(
        (name) => [name, packageVersion(name)],
      ),
    ),
    errors: [],
  };
}

// ---------------------------------------------------------------- main

async function main() {
  const meta = metadata();
  log(`cometa bench: phases ${[...phases].join(", ")}${quick ? " (quick)" : ""}; load average ${meta.load.toFixed(2)}`);
  const builds = await prepareBuilds({ useDist: flag("dist") });
  meta.buildSource = builds.source;
  log(`client, IIFE and server built from ${builds.source}`);

  const data = { meta, settings: { ...settings }, targets: [] };

  if (phases.has("sizes")) {
    try {
      data.sizes = await measureSizes(builds);
      for (const row of data.sizes) log(`size ${row.label}: ${(row.gzip / 1000).toFixed(2)} KB gzip, ${(row.brotli / 1000).toFixed(2)} KB brotli`);
    } catch (error) {
      meta.errors.push(`sizes: ${error.message}`);
      log(`sizes FAILED: ${error.message}`);
    }
  }

  if (phases.has("node") || phases.has("browser")) {
    const server = await startServer(builds);
    log(`server (engine.io ${packageVersion("engine.io")} + cometa/server) on ${server.url}`);
    try {
      if (phases.has("node")) {
        const { runs, rounds } = await measureRounds("node", nodeConfigs, settings.nodeRounds, settings.nodeBudgetMs, (config) =>
          runNodePlan(builds, planFor(config, server.url, settings.nodeConnects)),
        );
        data.node = aggregate(runs);
        data.settings.nodeRounds = rounds;
      }
      if (phases.has("browser")) {
        let browser;
        try {
          browser = await launchBrowser();
          meta.chromium = browser.version;
          const clock = await probeClock(browser, server.url);
          meta.clock = clock;
          log(`Chromium ${browser.version}; crossOriginIsolated ${clock.crossOriginIsolated}, performance.now() step ${(clock.resolutionMs * 1000).toFixed(1)} µs`);
          const { runs, rounds } = await measureRounds("chromium", browserConfigs, settings.browserRounds, settings.browserBudgetMs, async (config) => {
            try {
              return await runInBrowser(browser, server.url, config.spec.client === "eio" ? "eio" : "cometa", planFor(config, server.url, settings.browserConnects, true), 4 * 60_000);
            } catch (error) {
              return { errors: [String(error.message)] };
            }
          });
          data.browser = aggregate(runs);
          data.settings.browserRounds = rounds;
        } catch (error) {
          meta.errors.push(`chromium: ${error.message}`);
          log(`chromium FAILED: ${error.message}`);
        } finally {
          await browser?.close();
        }
      }
    } finally {
      await server.stop();
    }
  }

  if (phases.has("socketio")) {
    const server = await startIoServer(builds);
    log(`socket.io ${packageVersion("socket.io")} on cometa/server on ${server.url}`);
    data.io = {};
    try {
      // one round is a few seconds a configuration: as many rounds as the engine.io phases
      const { runs, rounds } = await measureRounds("node socket.io", ioConfigs, settings.nodeRounds, settings.ioBudgetMs, (config) =>
        runIoNode(builds, config, ioPlan(config, server.url, settings)),
      );
      data.io.node = aggregateIo(runs);
      data.settings.ioNodeRounds = rounds;
      if (chromiumWanted) {
        let browser;
        try {
          browser = await launchBrowser();
          meta.chromium = browser.version;
          const { runs, rounds } = await measureRounds("chromium socket.io", ioConfigs, settings.browserRounds, settings.ioBudgetMs, async (config) => {
            try {
              return await runIoBrowser(browser, server.url, config, ioPlan(config, server.url, settings, true), 2 * 60_000);
            } catch (error) {
              return { errors: [String(error.message)] };
            }
          });
          data.io.chromium = aggregateIo(runs);
          data.settings.ioBrowserRounds = rounds;
        } catch (error) {
          meta.errors.push(`chromium socket.io: ${error.message}`);
          log(`chromium socket.io FAILED: ${error.message}`);
        } finally {
          await browser?.close();
        }
      }
    } finally {
      await server.stop();
    }
  }

  if (phases.has("idle")) {
    log(`server idle sessions: ${settings.sessions} per transport, ping every ${settings.pingInterval} ms, CPU over ${settings.cpuWindowMs / 1000} s`);
    data.idle = await measureIdle(builds, {
      transports: ["websocket", "polling", "sse", "xhr-streaming", "iframe", "short-polling"],
      sessions: settings.sessions,
      pingInterval: settings.pingInterval,
      cpuWindowMs: settings.cpuWindowMs,
      log,
      deadline: started + settings.totalBudgetMs,
    });
  }

  if (phases.has("resume")) {
    log(`resumable sessions: ${settings.sessions} idle sessions per transport and mode, throughput with resume on and off, recovery from a reset WebSocket`);
    const phaseStart = Date.now();
    try {
      data.resume = await measureResume(
        builds,
        {
          sessions: settings.sessions,
          pingInterval: settings.pingInterval,
          memoryRounds: settings.resumeMemoryRounds,
          throughputRounds: settings.resumeThroughputRounds,
          throughput: settings.throughput,
          throughputRepeats: settings.throughputRepeats,
          recoveryRuns: settings.recoveryRuns,
          stepMs: settings.stepMs,
        },
        { log, deadline: phaseStart + settings.resumeBudgetMs },
      );
    } catch (error) {
      meta.errors.push(`resume: ${error.message}`);
      log(`resume FAILED: ${error.message}`);
    }
  }

  meta.chromium ??= chromiumVersion();
  meta.seconds = (Date.now() - started) / 1000;
  data.targets = evaluateTargets(data);
  describe(data);
  const results = value("out", join(benchDir, "RESULTS.md"));
  writeFileSync(results, renderMarkdown(data));
  log(`wrote ${results}`);

  if (!flag("no-chart")) {
    if (!existsSync(CHROMIUM)) log(`no chart: ${CHROMIUM} not found`);
    else {
      let browser;
      try {
        browser = await launchBrowser();
        const file = join(benchDir, "chart.png");
        await screenshot(browser, chartHtml(data), file);
        log(`wrote ${file}`);
      } catch (error) {
        log(`chart FAILED: ${error.message}`);
      } finally {
        await browser?.close();
      }
    }
  }

  console.log("\nTargets:");
  for (const line of targetLines(data.targets)) console.log(`  ${line}`);
  if (meta.noisy) console.log(`\n${meta.noisy}`);
  if (quick) console.log("--quick is a smoke run (fewer rounds, messages and sessions): do not compare its numbers.");
}

/** Method notes for RESULTS.md, from the settings actually used. */
function describe(data) {
  const s = data.settings;
  s.nodeIds = ids(nodeConfigs);
  s.browserIds = ids(browserConfigs);
  s.nodeNote =
    "Each client in a fresh `node --expose-gc` process. cometa gets `ws` and `eventsource` through `env` and uses Node's `fetch` for HTTP; " +
    "engine.io-client is its Node build (polling through xmlhttprequest-ssl, websocket through `ws`). Raw `ws` speaks engine.io v4 by hand: the floor.";
  s.browserNote =
    `Chromium ${data.meta.chromium ?? ""} headless, the page and engine.io on the same loopback origin, cross-origin isolated ` +
    `(performance.now() step ${data.meta.clock ? (data.meta.clock.resolutionMs * 1000).toFixed(0) + " µs" : "unknown"}). cometa is \`cometa.min.js\`, ` +
    "engine.io-client is `dist/engine.io.min.js`; raw `WebSocket` is the floor.";
  const ioCommon =
    "socket.io 4.8 bound to cometa/server (the build measured), in its own process on 127.0.0.1, acknowledging `echo`; the same socket.io-client 4.8 code on both sides, only the engine differs. " +
    `${s.warmup} unrecorded acknowledgements first; connect: ${s.nodeConnects} (Node) / ${s.browserConnects} (Chromium) connections after a discarded first one.`;
  s.ioNodeNote =
    `${ioCommon} The npm package in a fresh \`node --expose-gc\` process per configuration, its \`engine.io-client\` import resolved to cometa's compat entry by a loader hook ` +
    `(what \`cometa/engine.io-client/register\` does), or engine.io-client's Node build. ${s.ioNodeRounds ?? "–"} rounds, alternating as above.`;
  s.ioBrowserNote =
    `${ioCommon} The script-tag builds on a page of the server's origin: \`socket.io.min.js\` on cometa against socket.io's own \`dist/socket.io.min.js\`. ` +
    `${s.ioBrowserRounds ?? "–"} rounds, alternating as above.`;
  s.idleNote =
    `${s.sessions} idle sessions per transport, opened by cometa's Node client (iframe: a minimal raw client that reads the document and answers pings), ` +
    `against a fresh server process each (\`--expose-gc\`, pingInterval ${s.pingInterval} ms). Memory: growth of RSS and of the V8 heap after full GCs, ` +
    `divided by the sessions (a warm-up of 50 sessions opened and closed first). CPU: the server's process.cpuUsage() over ${s.cpuWindowMs / 1000} s of idle heartbeats, ` +
    "in ms of CPU per second per 1,000 sessions (short-polling polls every second by default, so it is never idle)." +
    (s.sessions < 1000 ? ` With only ${s.sessions} sessions, fixed costs weigh more: per-session RSS reads higher than with 2,000.` : "");
  s.resumeNote =
    `cometa/server with its defaults (resume on: window 60 s, maxBytes 16 MiB), a fresh process (\`--expose-gc\`) per measurement. ` +
    `Memory: ${s.sessions} sessions per transport and mode held by minimal raw clients (bench/lib/resume-swarm.mjs) that offer \`resume=1\` or not; ` +
    "each sends one message and reads its echo (acknowledged both ways when resumable), then sits idle answering pings " +
    `(every ${s.pingInterval / 1000} s); growth of the V8 heap (and RSS) after full GCs over a baseline taken after 50 sessions opened and closed, ` +
    `divided by the sessions; median of ${s.resumeMemoryRounds} round(s), modes alternating. ` +
    `Throughput: cometa's Node client forced onto one transport, \`resume\` on and off, ${s.throughput.count.toLocaleString("en")} messages of ${s.throughput.size} B each way ` +
    `as in the Node table, median burst of ${s.throughputRepeats} (and the client process's CPU per message over it), median of ${s.resumeThroughputRounds} round(s) in alternating order ` +
    `(a burst, ${((s.throughput.count * s.throughput.size) / 1e6).toFixed(0)} MB, is written in one turn, before any acknowledgement can come back: it fits in \`resume.maxBytes\`). ` +
    `Recovery: ${s.recoveryRuns} sessions on the default ladder through a TCP proxy in the client's process; once on WebSocket, its TCP connection is reset ` +
    "at the proxy (both ways); time to `resumed` (the session reattached) and to `upgrade` to WebSocket again, then an echo.";
  s.method = [
    "Server: a stock engine.io 6.6 `Server` extended by cometa/server (`Server` from the build measured), in its own process on 127.0.0.1 and an ephemeral port, default options; it echoes, or counts (`!sink:N`) or sends (`!source:N:SIZE`) on request.",
    `Rounds: ${s.nodeRounds} in Node, ${s.browserRounds} in Chromium; in each round every configuration runs once, in alternating order (reversed on odd rounds). Tables show the median over rounds of each round's figure.`,
    `Connect: ${s.nodeConnects} (Node) / ${s.browserConnects} (Chromium) handshakes after a discarded first one; "new → open" is \`new Socket\` to \`open\` on the transport of the row; the upgrade rows use each client's defaults (long-polling, then a probe to WebSocket). engine.io's server answers a probe and then ends the held poll on its next 100 ms check, which is most of "open → upgraded" for both clients.`,
    `Echo: after a warm-up of ${s.warmup} echoes and a short throughput run, ${s.echoCount} sequential round trips of 32 B and of 16 KB (16,384 B) strings on one session; p50/p95/p99 by nearest rank. Short-polling: ${s.slowEchoCount} echoes, pollInterval ${s.shortPollInterval} ms (its latency is the poll interval).`,
    `Throughput: ${s.throughput.count.toLocaleString("en")} messages of ${s.throughput.size} B, sent in one synchronous loop (client → server, timed until the server reports the last one) or requested from the server (server → client, timed until the last one arrives); ${s.throughputRepeats} (Chromium: ${s.browserThroughputRepeats}) bursts each way per round on the same session, the median burst kept. Node rows also give the client process's CPU per message (process.cpuUsage over the median burst).`,
    `Every step is bounded (${s.stepMs / 1000} s; a client process 4 min); a step that fails or times out is listed under "Errors" and the next step gets a fresh session.`,
    "Between measurements: a full GC (global.gc in Node, window.gc in Chromium through --js-flags=--expose-gc) and 20 ms of quiet.",
    "Sizes: see the table's labels; the ESM row is what an app bundling `import { BareSocket, polling, websocket } from \"cometa\"` ships (rollup + @rollup/plugin-node-resolve with browser resolution + @rollup/plugin-terser defaults).",
    "Timing noise: on a shared machine rerun and compare; nothing in CI runs this.",
  ];
}

main()
  .then(() => {
    killChildren();
    process.exit(0);
  })
  .catch((error) => {
    console.error(error);
    killChildren();
    process.exit(1);
  });
