/**
 * The socket.io phase: socket.io-client 4.8 on cometa against socket.io-client 4.8 on
 * engine.io-client, in the same run, against one socket.io 4.8 server bound to cometa/server.
 * Emit-with-acknowledgement round trips over WebSocket and long-polling, and `io()` to the
 * engine's upgrade with the default transports; in Node (the npm package, engine.io-client
 * swapped by a loader hook for cometa) and in Chromium (the two script-tag builds).
 */
import { join } from "node:path";
import { benchDir, median, root, spawnChild, withTimeout } from "./util.mjs";

/** engine.io-client's configuration first, cometa's next to it. */
export const ioConfigs = [
  { id: "eio/websocket", client: "eio", transports: ["websocket"] },
  { id: "cometa/websocket", client: "cometa", transports: ["websocket"] },
  { id: "eio/polling", client: "eio", transports: ["polling"] },
  { id: "cometa/polling", client: "cometa", transports: ["polling"] },
  { id: "eio/upgrade", client: "eio", upgradeTo: "websocket" },
  { id: "cometa/upgrade", client: "cometa", upgradeTo: "websocket" },
];

export function ioPlan(config, url, settings, browser = false) {
  return {
    url,
    transports: config.transports,
    upgradeTo: config.upgradeTo,
    connects: config.upgradeTo ? (browser ? settings.browserConnects : settings.nodeConnects) : 0,
    warmup: config.upgradeTo ? 0 : settings.warmup,
    acks: config.upgradeTo ? 0 : settings.ackCount,
    stepMs: settings.stepMs,
  };
}

export async function startIoServer(builds) {
  const files = {
    "/bench/socket.io.min.js": [builds.socketIoIife, "text/javascript; charset=utf-8"],
    "/bench/socket.io.own.min.js": [join(root, "node_modules/socket.io-client/dist/socket.io.min.js"), "text/javascript; charset=utf-8"],
    "/bench/io-scenarios.js": [join(benchDir, "lib/io-scenarios.js"), "text/javascript; charset=utf-8"],
  };
  let ready;
  const url = new Promise((resolve) => (ready = resolve));
  const server = spawnChild(join(benchDir, "lib/io-server.mjs"), [JSON.stringify({ serverModule: builds.server, files })], {
    onMessage: (message) => message?.ready && ready(message.ready),
  });
  server.url = await withTimeout(
    Promise.race([url, server.exited.then(() => Promise.reject(new Error("socket.io server exited")))]),
    20000,
    "socket.io server start",
  );
  return server;
}

/** One plan in a fresh `node --expose-gc` process. */
export async function runIoNode(builds, config, plan) {
  let result;
  const child = spawnChild(join(benchDir, "lib/io-client.mjs"), [JSON.stringify({ client: config.client, compatHooks: builds.compatHooks, plan })], {
    execArgv: ["--expose-gc"],
    onMessage: (message) => message?.result && (result = message.result),
  });
  try {
    await withTimeout(child.exited, 2 * 60_000, `socket.io node client ${config.client}`);
  } catch (error) {
    await child.stop(100);
    return { errors: [String(error.message)] };
  }
  return result ?? { errors: ["client process exited without a result"] };
}

/** One plan on a fresh page (io.html) of its own. */
export async function runIoBrowser(browser, origin, config, plan, timeoutMs) {
  const page = await browser.newPage();
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  try {
    await page.goto(`${origin}/bench/io.html?lib=${config.client}`, { waitUntil: "load", timeout: 15000 });
    await page.waitForFunction(() => window.benchReady === true, undefined, { timeout: 15000 });
    const result = await withTimeout(page.evaluate((p) => window.benchRun(p), plan), timeoutMs, `browser socket.io ${config.id}`);
    if (pageErrors.length) result.errors.push(...pageErrors.map((e) => `page: ${e}`));
    return result;
  } finally {
    await page.close().catch(() => {});
  }
}

/** runs: [{ id, round, result }] -> { id: medians over rounds }. */
export function aggregateIo(runs) {
  const out = {};
  for (const config of ioConfigs) {
    const list = runs.filter((run) => run.id === config.id);
    if (list.length === 0) continue;
    const pick = (path) => median(list.map((run) => path.reduce((value, key) => value?.[key], run.result)));
    out[config.id] = {
      rounds: list.length,
      connected: pick(["connect", "connected", "p50"]),
      upgraded: pick(["connect", "upgraded", "p50"]),
      connects: pick(["connect", "upgraded", "n"]),
      ack: { p50: pick(["ack", "p50"]), p95: pick(["ack", "p95"]), p99: pick(["ack", "p99"]), n: pick(["ack", "n"]) },
      errors: list.flatMap((run) => (run.result.errors ?? []).map((e) => `round ${run.round + 1}: ${e}`)),
    };
  }
  return out;
}

const ratio = (a, b) => (a === undefined || b === undefined || b === 0 ? undefined : a / b);

/** The socket.io target for one environment: every ratio against engine.io-client ≤ 1.05. */
export function ioTarget(agg, fmt) {
  if (!agg) return undefined;
  const parts = [
    ["websocket ack p50", ratio(agg["cometa/websocket"]?.ack.p50, agg["eio/websocket"]?.ack.p50)],
    ["polling ack p50", ratio(agg["cometa/polling"]?.ack.p50, agg["eio/polling"]?.ack.p50)],
    ["io() → upgraded", ratio(agg["cometa/upgrade"]?.upgraded, agg["eio/upgrade"]?.upgraded)],
  ];
  const met = parts.some(([, r]) => r === undefined) ? undefined : parts.every(([, r]) => r <= 1.05);
  return { met, detail: parts.map(([name, r]) => `${name} ${fmt.x(r)}`).join(", ") };
}

/** The Markdown section for one environment. */
export function ioSection(title, agg, note, ackCount, fmt) {
  if (!agg) return [];
  const label = (id) => `socket.io-client on ${id.startsWith("eio/") ? "engine.io-client" : "cometa"}`;
  const line = (cells) => `| ${cells.join(" | ")} |`;
  const table = (header, rows) => [line(header), line(header.map((_, i) => (i === 0 ? "---" : "---:"))), ...rows.map(line)].join("\n");
  const ackRows = ["websocket", "polling"].flatMap((transport) =>
    ["eio", "cometa"]
      .map((client) => `${client}/${transport}`)
      .filter((id) => agg[id])
      .map((id) => {
        const a = agg[id];
        const ref = id.startsWith("cometa/") ? agg[`eio/${transport}`] : undefined;
        return [label(id), transport, fmt.ms(a.ack.p50), fmt.ms(a.ack.p95), fmt.ms(a.ack.p99), fmt.x(ratio(a.ack.p50, ref?.ack.p50)), String(a.ack.n ?? "–")];
      }),
  );
  const upgradeRows = ["eio/upgrade", "cometa/upgrade"]
    .filter((id) => agg[id])
    .map((id) => {
      const a = agg[id];
      const ref = id.startsWith("cometa/") ? agg["eio/upgrade"] : undefined;
      return [label(id), fmt.ms(a.connected), fmt.ms(a.upgraded), fmt.x(ratio(a.upgraded, ref?.upgraded))];
    });
  return [
    `## ${title}`,
    "",
    note,
    "",
    `### Emit with acknowledgement, ${ackCount.toLocaleString("en")} sequential round trips of a 32-character string`,
    "",
    table(["client", "transport", "p50", "p95", "p99", "p50 × eio", "round trips"], ackRows),
    "",
    "### Connect (median over connections, default transports)",
    "",
    table(["client", "io() → connect", "io() → upgraded to websocket", "upgraded × eio"], upgradeRows),
    "",
  ];
}
