#!/usr/bin/env node
/**
 * Where does the time go? Runs one focused scenario per client under `node --cpu-prof` against
 * the bench server and prints, per client, the CPU by module and the functions with the most
 * self time. Profiles stay in bench/.cache/profiles/ (open them in Chrome DevTools).
 *
 *   node bench/profile.mjs [--transport=websocket] [--step=echo|upload|download] [--size=32]
 *                          [--count=N] [--clients=cometa,eio,ws] [--top=20] [--server] [--dist]
 *
 * --server also profiles the server process (one profile for the whole run).
 * --engine=JSON passes options to the server (e.g. '{"httpCompression":false}').
 * --browser runs the clients in Chromium instead (CDP profiler; cometa's IIFE unminified and
 *           engine.io-client's dist/engine.io.js, so both profiles show function names).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { launchBrowser } from "./lib/browser.mjs";
import { buildReadableIife, prepareBuilds } from "./lib/build.mjs";
import { benchDir, cacheDir, killChildren, root, spawnChild, withTimeout } from "./lib/util.mjs";

const args = process.argv.slice(2);
const value = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const transport = value("transport", "websocket");
const step = value("step", "echo");
const size = Number(value("size", step === "echo" ? 32 : 100));
const count = Number(value("count", step === "echo" ? (transport === "websocket" ? 20000 : 3000) : 200000));
const clients = value("clients", transport === "websocket" ? "cometa,eio,ws" : "cometa,eio").split(",");
const top = Number(value("top", 20));
const profileServer = args.includes("--server");
const inBrowser = args.includes("--browser");

const dir = join(cacheDir, "profiles", new Date().toISOString().replace(/[:.]/g, "-"));
mkdirSync(dir, { recursive: true });
const builds = await prepareBuilds({ useDist: args.includes("--dist") });

let ready;
const urlPromise = new Promise((resolve) => (ready = resolve));
const js = "text/javascript; charset=utf-8";
const files = inBrowser
  ? {
      "/bench/cometa.min.js": [await buildReadableIife(), js],
      "/bench/engine.io.min.js": [join(root, "node_modules/engine.io-client/dist/engine.io.js"), js],
      "/bench/scenarios.js": [join(benchDir, "lib/scenarios.js"), js],
    }
  : {};
const server = spawnChild(join(benchDir, "lib/server.mjs"), [JSON.stringify({ serverModule: builds.server, files, engine: JSON.parse(value("engine", "{}")) })], {
  execArgv: profileServer ? ["--cpu-prof", `--cpu-prof-dir=${join(dir, "server")}`] : [],
  onMessage: (message) => message?.ready && ready(message.ready),
});
const url = await withTimeout(urlPromise, 20000, "server start");

/** Self time by function and by module, from a .cpuprofile. */
function summarize(file) {
  const profile = JSON.parse(readFileSync(file, "utf8"));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byFunction = new Map();
  const byModule = new Map();
  let total = 0;
  for (const [id, micros] of self) {
    const { functionName, url: source, lineNumber } = nodes.get(id).callFrame;
    const module = moduleOf(source, functionName);
    if (module === "(idle)") continue;
    total += micros;
    const key = `${functionName || "(anonymous)"}  ${shortUrl(source)}${source ? `:${lineNumber + 1}` : ""}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
    byModule.set(module, (byModule.get(module) ?? 0) + micros);
  }
  const sorted = (map) => [...map].sort((a, b) => b[1] - a[1]);
  return { total, functions: sorted(byFunction), modules: sorted(byModule) };
}

function moduleOf(source, name) {
  if (!source) return name.startsWith("(") ? name : "(native)";
  if (source.includes("/snapshot/") || source.includes("/dist-copy/") || source.endsWith("/bench/cometa.min.js")) return "cometa";
  if (source.endsWith("/bench/engine.io.min.js")) return "engine.io-client";
  if (source.endsWith("/bench/scenarios.js")) return "bench harness";
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source);
  if (match) return match[1];
  if (source.includes("undici")) return "node:undici (fetch)";
  if (source.startsWith("node:")) return source.split("/").slice(0, 2).join("/");
  if (source.includes("/bench/lib/")) return "bench harness";
  return source;
}

const shortUrl = (source) => source.replace(/^http:\/\/[^/]+\/bench\//, "page:").replace(/^file:\/\/.*?node_modules\//, "").replace(/^file:\/\/.*\/bench\//, "bench/").replace(/^node:internal\//, "internal/");

let browser;
/** One plan on a fresh page, with Chromium's sampling profiler on for the whole of it. */
async function profileInBrowser(client, plan, profileDir) {
  browser ??= await launchBrowser();
  const page = await browser.newPage();
  try {
    await page.goto(`${url}/bench/page.html?lib=${client === "eio" ? "eio" : "cometa"}`, { waitUntil: "load" });
    await page.waitForFunction(() => window.benchReady === true);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: 100 });
    await cdp.send("Profiler.start");
    const result = await page.evaluate((p) => window.benchRun(p), plan);
    const { profile } = await cdp.send("Profiler.stop");
    const file = join(profileDir, `${client}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    return { result, file };
  } finally {
    await page.close();
  }
}

for (const client of clients) {
  const spec = client === "ws" ? { client } : { client, transport, ...(transport === "short-polling" ? { pollInterval: 20 } : {}) };
  const plan = {
    url,
    spec,
    connects: 0,
    warmup: 200,
    steps: [step],
    echo: [{ size, count }],
    throughput: step === "echo" ? undefined : { size, count },
    stepMs: 300_000,
  };
  const profileDir = join(dir, client);
  mkdirSync(profileDir, { recursive: true });
  let result;
  let file;
  if (inBrowser) {
    ({ result, file } = await profileInBrowser(client, plan, profileDir));
  } else {
    const child = spawnChild(join(benchDir, "lib/node-client.mjs"), [JSON.stringify({ clientModule: builds.client, plan })], {
      execArgv: ["--expose-gc", "--cpu-prof", `--cpu-prof-dir=${profileDir}`, "--cpu-prof-interval=100"],
      onMessage: (message) => message?.result && (result = message.result),
    });
    await withTimeout(child.exited, 600_000, client);
    file = join(profileDir, readdirSync(profileDir).find((f) => f.endsWith(".cpuprofile")));
  }
  const summary = summarize(file);
  const metric =
    step === "echo"
      ? `echo ${size} B ×${count}: p50 ${(result?.echo?.[size]?.p50 * 1000).toFixed(0)} µs, mean ${(result?.echo?.[size]?.mean * 1000).toFixed(0)} µs, client CPU ${result?.echo?.[size]?.cpuUsPerMessage?.toFixed(1)} µs/echo`
      : `${step} ${count} × ${size} B: ${((result?.[step]?.perSecond ?? 0) / 1000).toFixed(0)}k msg/s, client CPU ${result?.[step]?.cpuUsPerMessage?.toFixed(2)} µs/msg`;
  console.log(`\n=== ${client} ${spec.transport ?? ""}: ${metric}${result?.errors?.length ? ` ERRORS ${result.errors.join("; ")}` : ""}`);
  console.log(`profile: ${file} (${(summary.total / 1000).toFixed(0)} ms of CPU outside idle)`);
  console.log("by module:");
  for (const [module, micros] of summary.modules.slice(0, 12)) {
    console.log(`  ${((micros / summary.total) * 100).toFixed(1).padStart(5)}%  ${(micros / 1000).toFixed(0).padStart(6)} ms  ${module}`);
  }
  console.log(`top ${top} functions by self time:`);
  for (const [key, micros] of summary.functions.slice(0, top)) {
    console.log(`  ${((micros / summary.total) * 100).toFixed(1).padStart(5)}%  ${(micros / 1000).toFixed(1).padStart(7)} ms  ${key}`);
  }
}

await browser?.close();
await server.stop();
if (profileServer) console.log(`\nserver profile: ${join(dir, "server")}`);
killChildren();
