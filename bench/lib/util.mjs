/** Small helpers shared by the bench's Node processes: timeouts, children, statistics. */
import { fork } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const benchDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const root = resolve(benchDir, "..");
export const cacheDir = resolve(benchDir, ".cache");

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Rejects with `label` when `promise` takes longer than `ms`. */
export function withTimeout(promise, ms, label) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${label}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const children = new Set();
/** Kills every child still running (they are all ours), on exit or interrupt. */
export function killChildren() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  children.clear();
}
process.on("exit", killChildren);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    killChildren();
    process.exit(130);
  });
}

/**
 * Forks a Node child speaking JSON over IPC. `request(message)` sends `{id, ...message}` and
 * resolves with the child's `{id, result}` or rejects with its `{id, error}`.
 */
export function spawnChild(file, args = [], { execArgv = [], onMessage, stdio = "inherit" } = {}) {
  const child = fork(file, args, {
    execArgv,
    stdio: stdio === "inherit" ? ["ignore", "inherit", "inherit", "ipc"] : ["ignore", "pipe", "pipe", "ipc"],
    serialization: "advanced",
  });
  children.add(child);
  let nextId = 1;
  const waiting = new Map();
  const exited = new Promise((resolveExit) =>
    child.once("exit", (code, signal) => {
      children.delete(child);
      for (const { reject } of waiting.values()) reject(new Error(`${file} exited (${code ?? signal})`));
      waiting.clear();
      resolveExit({ code, signal });
    }),
  );
  child.on("error", () => {});
  child.on("message", (message) => {
    if (message && message.id !== undefined && waiting.has(message.id)) {
      const { resolve, reject } = waiting.get(message.id);
      waiting.delete(message.id);
      if (message.error) reject(new Error(message.error));
      else resolve(message.result);
    } else onMessage?.(message);
  });
  return {
    child,
    exited,
    request(message, timeoutMs = 60_000) {
      const id = nextId++;
      const answer = new Promise((resolve, reject) => waiting.set(id, { resolve, reject }));
      child.send({ id, ...message });
      return withTimeout(answer, timeoutMs, `${message.type ?? "request"} to ${file}`).finally(() => waiting.delete(id));
    },
    async stop(graceMs = 2000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const done = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
      if (!done) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Answers `{id, type, ...}` requests in a child with `handlers[type](message)`. */
export function serveRequests(handlers) {
  process.on("message", async (message) => {
    if (!message || message.id === undefined) return;
    try {
      const handler = handlers[message.type];
      if (!handler) throw new Error(`unknown request ${message.type}`);
      process.send({ id: message.id, result: await handler(message) });
    } catch (error) {
      process.send({ id: message.id, error: String(error?.stack ?? error) });
    }
  });
  process.on("disconnect", () => process.exit(0));
}

export function median(values) {
  const sorted = values.filter((v) => typeof v === "number" && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * Forks `bench/lib/<file>` with `config` and waits (up to 20 s) for its `{ ready }` message:
 * the child, and the value it sent as `value`.
 */
export async function startChild(file, config, execArgv = []) {
  let ready;
  const readyPromise = new Promise((resolve) => (ready = resolve));
  const child = spawnChild(join(benchDir, "lib", file), [JSON.stringify(config)], {
    execArgv,
    onMessage: (message) => message?.ready && ready(message.ready),
  });
  const value = await withTimeout(
    Promise.race([readyPromise, child.exited.then(() => Promise.reject(new Error(`${file} exited early`)))]),
    20_000,
    `${file} start`,
  );
  return { ...child, value };
}

/** Waits until a bench server holds at most `count` sessions, or `ms` passed. */
export async function waitForSessions(server, count, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if ((await server.request({ type: "sessions" })) <= count) return;
    await sleep(100);
  }
}

/**
 * Opens `count` sessions with `opener`, `concurrency` at a time, each bounded by 15 s: those
 * opened, how many failed and the first failure's message.
 */
export async function openMany(count, concurrency, opener, label) {
  const opened = [];
  let failed = 0;
  let firstError;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      try {
        opened.push(await withTimeout(opener(), 15000, label));
      } catch (error) {
        failed++;
        firstError ??= String(error?.message ?? error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { opened, failed, firstError };
}
