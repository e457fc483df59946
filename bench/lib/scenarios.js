/**
 * The measurements, identical in Node and in the browser (this file is served to the page as
 * an ES module): no imports, only `performance.now`, timers and the client libraries given.
 *
 * Server protocol (bench/lib/server.mjs): every message is echoed, except `!sink:N` (count the
 * next N messages, then send `!done:N`) and `!source:N:SIZE` (send N messages of SIZE bytes).
 */

const now = () => performance.now();

/** Deterministic printable ASCII of `size` bytes (never starts with `!`). */
export function payload(size, seed = 1) {
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-_";
  let x = seed * 7919 + 17;
  let text = "";
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    text += alphabet[x % alphabet.length];
  }
  return text;
}

function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/**
 * One client behind a uniform face: `opened` (resolves with the time of `open`), `upgraded`
 * (resolves with `{name, t}`), `send`, `onmessage`, `onfail`, `close`, `transportName()`.
 *
 * spec: { client: "cometa" | "eio" | "ws", transport?: string, upgrade?: boolean, pollInterval?: number }
 * libs: { Cometa?, eio?: (url, opts) => Socket, WebSocket?, env? }
 */
export function createClient(spec, libs, url) {
  const open = deferred();
  const upgraded = deferred();
  let closing = false;
  const client = { onmessage: null, onfail: null, opened: open.promise, upgraded: upgraded.promise };
  const fail = (error) => {
    if (closing) return;
    open.reject(error);
    upgraded.reject(error);
    client.onfail?.(error);
  };

  if (spec.client === "cometa") {
    const options = { upgrade: Boolean(spec.upgrade) };
    if (libs.env) options.env = libs.env;
    if (spec.transport) options.transports = [spec.transport];
    if (spec.pollInterval) options.pollInterval = spec.pollInterval;
    const socket = new libs.Cometa.Socket(url, options);
    socket.on("open", () => open.resolve(now()));
    socket.on("upgrade", (name) => upgraded.resolve({ name, t: now() }));
    socket.on("message", (data) => client.onmessage?.(data));
    socket.on("close", (reason, details) => fail(new Error(`cometa closed: ${reason} ${details?.error?.message ?? ""}`)));
    client.send = (data) => socket.send(data);
    client.close = () => {
      closing = true;
      socket.close();
    };
    client.transportName = () => socket.transport.name;
  } else if (spec.client === "eio") {
    const options = { upgrade: Boolean(spec.upgrade) };
    if (spec.transport) options.transports = [spec.transport];
    const socket = libs.eio(url, options);
    socket.on("open", () => open.resolve(now()));
    socket.on("upgrade", (transport) => upgraded.resolve({ name: transport.name, t: now() }));
    socket.on("message", (data) => client.onmessage?.(data));
    socket.on("close", (reason, description) => fail(new Error(`engine.io-client closed: ${reason} ${description?.message ?? ""}`)));
    client.send = (data) => socket.send(data);
    client.close = () => {
      closing = true;
      socket.close();
    };
    client.transportName = () => socket.transport?.name;
  } else if (spec.client === "ws") {
    // engine.io v4 by hand over a bare WebSocket: the floor for the websocket transport
    const ws = new libs.WebSocket(`${url.replace(/^http/, "ws")}/engine.io/?EIO=4&transport=websocket`);
    ws.onmessage = (event) => {
      const data = event.data;
      const type = data.charCodeAt(0);
      if (type === 52) client.onmessage?.(data.slice(1));
      else if (type === 50) ws.send("3");
      else if (type === 48) open.resolve(now());
    };
    ws.onerror = () => fail(new Error("ws error"));
    ws.onclose = () => fail(new Error("ws closed"));
    client.send = (data) => ws.send("4" + data);
    client.close = () => {
      closing = true;
      ws.close();
    };
    client.transportName = () => "websocket";
  } else {
    throw new Error(`unknown client ${spec.client}`);
  }
  return client;
}

/** Sends, waits for the echo, sends the next; resolves with each round trip in ms. */
export function echo(client, message, count, deadlineMs) {
  return new Promise((resolve, reject) => {
    const times = new Array(count);
    let i = 0;
    let wrong = 0;
    let sentAt = 0;
    const timer = setTimeout(() => finish(new Error(`echo: ${i}/${count} after ${deadlineMs} ms`)), deadlineMs);
    const finish = (error) => {
      clearTimeout(timer);
      client.onmessage = client.onfail = null;
      if (error) reject(error);
      else if (wrong > 0) reject(new Error(`echo: ${wrong} echoes differ from what was sent`));
      else resolve(times);
    };
    client.onfail = finish;
    client.onmessage = (data) => {
      times[i++] = now() - sentAt;
      if (data !== message) wrong++;
      if (i === count) return finish();
      sentAt = now();
      client.send(message);
    };
    sentAt = now();
    client.send(message);
  });
}

/** Client to server: `count` messages as fast as `send` takes them; ms until the server has all. */
export function upload(client, message, count, deadlineMs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`upload: no !done after ${deadlineMs} ms`)), deadlineMs);
    const finish = (error, ms) => {
      clearTimeout(timer);
      client.onmessage = client.onfail = null;
      error ? reject(error) : resolve(ms);
    };
    client.onfail = finish;
    let start = 0;
    client.onmessage = (data) => {
      if (typeof data === "string" && data.startsWith("!done:")) {
        const got = Number(data.slice(6));
        got === count ? finish(undefined, now() - start) : finish(new Error(`upload: server counted ${got}/${count}`));
      }
    };
    start = now();
    client.send(`!sink:${count}`);
    for (let i = 0; i < count; i++) client.send(message);
  });
}

/** Server to client: asks for `count` messages of `size` bytes; ms until the last arrived. */
export function download(client, size, count, deadlineMs) {
  const expected = payload(size, 7);
  return new Promise((resolve, reject) => {
    let got = 0;
    const timer = setTimeout(() => finish(new Error(`download: ${got}/${count} after ${deadlineMs} ms`)), deadlineMs);
    const finish = (error, ms) => {
      clearTimeout(timer);
      client.onmessage = client.onfail = null;
      error ? reject(error) : resolve(ms);
    };
    client.onfail = finish;
    let start = 0;
    client.onmessage = (data) => {
      if (++got === count) {
        data === expected ? finish(undefined, now() - start) : finish(new Error("download: last message differs"));
      }
    };
    start = now();
    client.send(`!source:${count}:${size}`);
  });
}

function summary(times) {
  const sorted = times.slice().sort((a, b) => a - b);
  const rank = (p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return { n: sorted.length, p50: rank(50), p95: rank(95), p99: rank(99), mean, min: sorted[0], max: sorted[sorted.length - 1] };
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU time (user + system, ms) of this process where the runtime tells it (Node), else undefined. */
const cpuNow = () => {
  const usage = globalThis.process?.cpuUsage?.();
  return usage ? (usage.user + usage.system) / 1000 : undefined;
};
/** Runs `fn`, returning its value and the process CPU it took (ms; undefined in browsers). */
async function withCpu(fn) {
  const before = cpuNow();
  const value = await fn();
  const after = cpuNow();
  return { value, cpuMs: before === undefined ? undefined : after - before };
}

/** Collects garbage between measurements when the runtime allows it (--expose-gc). */
async function settle() {
  if (typeof globalThis.gc === "function") globalThis.gc();
  await pause(20);
}

function within(promise, ms, label) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${label}: nothing within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

/**
 * One configuration, once: `connects` handshakes (plus one discarded), then one session for
 * the echo and throughput measurements. Each step is bounded; a failed step is reported and
 * the next one gets a fresh session.
 *
 * plan: { url, spec, connects, upgradeTo?, warmup, echo: [{size, count}], throughput?: {size, count},
 *         stepMs }
 */
export async function runPlan(plan, libs) {
  const { url, spec, stepMs } = plan;
  const result = { errors: [] };
  const step = async (name, fn) => {
    try {
      await fn();
    } catch (error) {
      const message = String(error?.message ?? error);
      result.errors.push(message.startsWith(`${name}:`) ? message : `${name}: ${message}`);
    }
  };

  if (plan.connects > 0) {
    await step("connect", async () => {
      const open = [];
      const upgrade = [];
      const total = [];
      for (let i = 0; i <= plan.connects; i++) {
        await settle();
        const start = now();
        const client = createClient(spec, libs, url);
        try {
          const openedAt = await within(client.opened, 10000, "open");
          let upgradedAt;
          if (plan.upgradeTo) {
            const { name, t } = await within(client.upgraded, 10000, "upgrade");
            if (name !== plan.upgradeTo) throw new Error(`upgraded to ${name}, not ${plan.upgradeTo}`);
            upgradedAt = t;
          }
          // the first handshake of a process pays for cold code paths and connection pools
          if (i > 0) {
            open.push(openedAt - start);
            if (upgradedAt !== undefined) {
              upgrade.push(upgradedAt - openedAt);
              total.push(upgradedAt - start);
            }
          }
        } finally {
          client.close();
        }
      }
      result.connect = { open: summary(open) };
      if (upgrade.length) Object.assign(result.connect, { upgrade: summary(upgrade), total: summary(total) });
    });
  }

  if (!plan.echo?.length && !plan.throughput) return result;
  let client;
  const session = async () => {
    if (client) return client;
    await settle();
    const fresh = createClient(spec, libs, url);
    await within(fresh.opened, 10000, "open");
    if (spec.transport && fresh.transportName() !== spec.transport) {
      fresh.close();
      throw new Error(`session on ${fresh.transportName()}, not ${spec.transport}`);
    }
    client = fresh;
    return client;
  };
  const measured = async (name, fn) =>
    step(name, async () => {
      const c = await session();
      await settle();
      try {
        await fn(c);
      } catch (error) {
        client = undefined;
        c.close();
        throw error;
      }
    });

  // warm-up, not recorded: JIT, connection pools and the server's code paths for this transport
  await measured("warmup", async (c) => {
    if (plan.warmup > 0) {
      await echo(c, payload(32, 3), plan.warmup, stepMs);
      if (plan.throughput) {
        const n = Math.min(2000, plan.throughput.count);
        await upload(c, payload(plan.throughput.size, 5), n, stepMs);
        await download(c, plan.throughput.size, n, stepMs);
      }
    }
  });
  // `steps` narrows a run to some measurements (bench/profile.mjs); all by default
  const steps = new Set(plan.steps ?? ["echo", "upload", "download"]);
  result.echo = {};
  for (const { size, count } of steps.has("echo") ? plan.echo ?? [] : []) {
    await measured(`echo ${size} B`, async (c) => {
      const { value, cpuMs } = await withCpu(() => echo(c, payload(size, 11), count, stepMs));
      result.echo[size] = { ...summary(value), cpuUsPerMessage: cpuMs === undefined ? undefined : (cpuMs * 1000) / count };
    });
  }
  if (plan.throughput) {
    // each direction `repeats` times on the session, the median kept: a 20,000-message burst
    // lasts a fraction of a second, so one descheduled moment would otherwise decide it
    const { size, count } = plan.throughput;
    const repeats = plan.repeats ?? 1;
    const burst = (name, run) =>
      measured(name, async (c) => {
        const runs = [];
        for (let r = 0; r < repeats; r++) {
          if (r > 0) await settle();
          runs.push(await withCpu(() => run(c)));
        }
        runs.sort((a, b) => a.value - b.value);
        const { value: ms, cpuMs } = runs[(runs.length - 1) >> 1];
        result[name] = {
          ms,
          perSecond: (count / ms) * 1000,
          count,
          size,
          repeats,
          cpuUsPerMessage: cpuMs === undefined ? undefined : (cpuMs * 1000) / count,
        };
      });
    if (steps.has("upload")) await burst("upload", (c) => upload(c, payload(size, 5), count, stepMs));
    if (steps.has("download")) await burst("download", (c) => download(c, size, count, stepMs));
  }
  client?.close();
  return result;
}
