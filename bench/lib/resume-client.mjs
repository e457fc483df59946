/**
 * cometa's Node client on a resumable session, in a fresh process (bench/lib/resume.mjs):
 *
 * - `throughput`: one session forced onto `transport`, `resume` on or off, then bursts of
 *   `count` messages each way (scenarios.js `upload` / `download`), the median of `repeats`.
 * - `recovery`: `runs` sessions through a TCP proxy in this process, each on the default ladder
 *   (long-polling, upgraded to WebSocket); once upgraded, the WebSocket's TCP connection is reset
 *   at the proxy, both ways. Timed from the reset to `resumed` (the session reattached, on
 *   long-polling first) and to the next `upgrade` to WebSocket; an echo then checks the session
 *   still works. A `close` in between is a failed run.
 *
 * argv[2]: JSON { clientModule, url, plan: { kind: "throughput", transport, resume, size, count,
 *   repeats, stepMs } | { kind: "recovery", runs, stepMs } }
 * Sends `{ result }` over IPC (or prints it when started by hand).
 */
import { connect, createServer } from "node:net";
import { pathToFileURL } from "node:url";
import { EventSource } from "eventsource";
import WebSocket from "ws";
import { download, payload, upload } from "./scenarios.js";

const input = JSON.parse(process.argv[2]);
const { Socket } = await import(pathToFileURL(input.clientModule).href);
const env = { WebSocket, EventSource };
const now = () => performance.now();
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function within(promise, ms, label) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${label}: nothing within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

/** `socket`'s next `event`, rejected by a `close` first. */
function next(socket, event, test = () => true) {
  return new Promise((resolve, reject) => {
    const offs = [
      socket.on(event, (...args) => {
        if (!test(...args)) return;
        offs.forEach((off) => off());
        resolve(args);
      }),
      socket.on("close", (reason, details) => {
        offs.forEach((off) => off());
        reject(new Error(`closed (${reason}${details?.error ? `: ${details.error.message}` : ""}) waiting for ${event}`));
      }),
    ];
  });
}

async function settle() {
  if (typeof globalThis.gc === "function") globalThis.gc();
  await pause(20);
}

/** scenarios.js's client face over one cometa socket. */
function wrap(socket) {
  const client = { onmessage: null, onfail: null };
  socket.on("message", (data) => client.onmessage?.(data));
  socket.on("close", (reason, details) => client.onfail?.(new Error(`closed: ${reason} ${details?.error?.message ?? ""}`)));
  client.send = (data) => socket.send(data);
  return client;
}

async function throughput(plan) {
  const { transport, resume, size, count, repeats, stepMs } = plan;
  const socket = new Socket(input.url, { transports: [transport], upgrade: false, resume, env });
  try {
    await within(next(socket, "open"), 10_000, "open");
    const client = wrap(socket);
    // warm-up, not recorded
    const warm = Math.min(2000, count);
    await upload(client, payload(size, 5), warm, stepMs);
    await download(client, size, warm, stepMs);
    // the median burst, and this process's CPU during it: steadier than the rate on a shared machine
    const burst = async (run) => {
      const runs = [];
      for (let r = 0; r < repeats; r++) {
        await settle();
        const before = process.cpuUsage();
        const ms = await run();
        const cpu = process.cpuUsage(before);
        runs.push({ ms, cpuUs: cpu.user + cpu.system });
      }
      runs.sort((a, b) => a.ms - b.ms);
      const { ms, cpuUs } = runs[(runs.length - 1) >> 1];
      return { perSecond: (count / ms) * 1000, cpuUsPerMessage: cpuUs / count };
    };
    const up = await burst(() => upload(client, payload(size, 5), count, stepMs));
    const down = await burst(() => download(client, size, count, stepMs));
    return {
      transport,
      resume,
      resumable: socket.resumable,
      upload: up.perSecond,
      download: down.perSecond,
      uploadCpu: up.cpuUsPerMessage,
      downloadCpu: down.cpuUsPerMessage,
    };
  } finally {
    socket.close();
  }
}

/** A TCP proxy to `target` that can reset the WebSocket connections passing through it. */
async function startProxy(target) {
  const { hostname, port } = new URL(target);
  const websockets = new Set();
  const server = createServer((downstream) => {
    const upstream = connect(Number(port), hostname);
    const pair = { downstream, upstream };
    downstream.once("data", (chunk) => {
      if (/^GET [^\r\n]*transport=websocket/.test(chunk.toString("latin1", 0, 512))) websockets.add(pair);
    });
    downstream.pipe(upstream);
    upstream.pipe(downstream);
    const drop = () => {
      websockets.delete(pair);
      downstream.destroy();
      upstream.destroy();
    };
    downstream.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    /** Resets every WebSocket connection, both ways; the number reset. */
    resetWebSockets() {
      const pairs = [...websockets];
      websockets.clear();
      for (const { downstream, upstream } of pairs) {
        downstream.resetAndDestroy();
        upstream.resetAndDestroy();
      }
      return pairs.length;
    },
    close: () => server.close(),
  };
}

async function recovery(plan) {
  const proxy = await startProxy(input.url);
  const runs = [];
  const errors = [];
  try {
    for (let i = 0; i < plan.runs; i++) {
      await settle();
      const socket = new Socket(proxy.url, { transports: ["polling", "websocket"], resume: true, env });
      try {
        await within(next(socket, "open"), 10_000, "open");
        if (!socket.resumable) throw new Error("the session is not resumable: the server granted no terms");
        if (socket.transport.name !== "websocket") await within(next(socket, "upgrade", (name) => name === "websocket"), 10_000, "upgrade");
        const resumed = next(socket, "resumed");
        const reupgraded = resumed.then(() => next(socket, "upgrade", (name) => name === "websocket"));
        reupgraded.catch(() => {});
        const t0 = now();
        if (proxy.resetWebSockets() === 0) throw new Error("no WebSocket connection at the proxy to reset");
        const [on] = await within(resumed, plan.stepMs, "resumed");
        const t1 = now();
        await within(reupgraded, plan.stepMs, "upgrade after the resume");
        const t2 = now();
        const echoed = next(socket, "message", (data) => data === "after the reset");
        socket.send("after the reset");
        await within(echoed, plan.stepMs, "echo after the resume");
        runs.push({ resumedMs: t1 - t0, resumedOn: on, upgradedMs: t2 - t0 });
      } catch (error) {
        errors.push(`run ${i + 1}: ${error?.message ?? error}`);
      } finally {
        socket.close();
      }
    }
  } finally {
    proxy.close();
  }
  return { runs, errors };
}

const plan = input.plan;
let result;
try {
  result = plan.kind === "throughput" ? await throughput(plan) : await recovery(plan);
} catch (error) {
  result = { error: String(error?.message ?? error) };
}
if (process.send) process.send({ result }, () => process.exit(0));
else {
  console.log(JSON.stringify(result, null, 2));
  process.exit(0);
}
