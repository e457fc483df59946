/**
 * socket.io-client measurements, identical in Node and in the browser (served to the page as an
 * ES module): no imports, only `performance.now`, timers and the `io` function given. The same
 * code runs socket.io-client on engine.io-client and on cometa; only `io` differs.
 *
 * Server (bench/lib/io-server.mjs): socket.io 4.8 on cometa/server; `echo` acknowledges with
 * its argument.
 */

const now = () => performance.now();
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Collects garbage between measurements when the runtime allows it (--expose-gc). */
async function settle() {
  if (typeof globalThis.gc === "function") globalThis.gc();
  await pause(20);
}

function summary(times) {
  const sorted = times.slice().sort((a, b) => a - b);
  const rank = (p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return { n: sorted.length, p50: rank(50), p95: rank(95), p99: rank(99), mean, min: sorted[0], max: sorted[sorted.length - 1] };
}

/** Rejects with `label` after `ms`, whatever `promise` does. */
function within(promise, ms, label) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${label}: nothing within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

/**
 * A socket.io client with its own Manager (no reconnection), and promises for socket.io's
 * `connect` and the engine's `upgrade` (with the time each happened).
 */
function connect(io, url, transports) {
  const socket = io(url, { forceNew: true, reconnection: false, ...(transports ? { transports } : {}) });
  const engine = socket.io.engine;
  const connected = new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(now()));
    socket.once("connect_error", (error) => reject(new Error(`connect_error: ${error.message}`)));
  });
  const upgraded = new Promise((resolve) => engine.once("upgrade", (transport) => resolve({ name: transport.name, t: now() })));
  connected.catch(() => {});
  return { socket, engine, connected, upgraded };
}

/** `count` sequential emits of `message`, each waiting for its acknowledgement; each round trip in ms. */
function acks(socket, message, count, deadlineMs) {
  return new Promise((resolve, reject) => {
    const times = new Array(count);
    let i = 0;
    let sentAt = 0;
    const timer = setTimeout(() => finish(new Error(`ack: ${i}/${count} after ${deadlineMs} ms`)), deadlineMs);
    const onDisconnect = (reason) => finish(new Error(`ack: disconnected (${reason}) at ${i}/${count}`));
    const finish = (error) => {
      clearTimeout(timer);
      socket.off("disconnect", onDisconnect);
      error ? reject(error) : resolve(times);
    };
    socket.on("disconnect", onDisconnect);
    const send = () => {
      sentAt = now();
      socket.emit("echo", message, (answer) => {
        times[i++] = now() - sentAt;
        if (answer !== message) return finish(new Error(`ack: answer ${i} differs from what was sent`));
        if (i === count) return finish();
        send();
      });
    };
    send();
  });
}

/**
 * One configuration, once: `connects` connections (plus one discarded) timed from `io()` to
 * socket.io's `connect` and, with `upgradeTo`, to the engine's `upgrade`; then one session for
 * `acks` sequential emit-with-ack round trips after `warmup` unrecorded ones.
 *
 * plan: { url, transports?: string[], connects, upgradeTo?, warmup, acks, stepMs }
 */
export async function runIoPlan(plan, io) {
  const { url, stepMs } = plan;
  const result = { errors: [] };
  const step = async (name, fn) => {
    try {
      await fn();
    } catch (error) {
      result.errors.push(`${name}: ${String(error?.message ?? error)}`);
    }
  };

  if (plan.connects > 0) {
    await step("connect", async () => {
      const connected = [];
      const upgraded = [];
      for (let i = 0; i <= plan.connects; i++) {
        await settle();
        const start = now();
        const client = connect(io, url, plan.transports);
        try {
          const connectedAt = await within(client.connected, 10000, "connect");
          let upgradedAt;
          if (plan.upgradeTo) {
            const { name, t } = await within(client.upgraded, 10000, "upgrade");
            if (name !== plan.upgradeTo) throw new Error(`upgraded to ${name}, not ${plan.upgradeTo}`);
            upgradedAt = t;
          }
          // the first connection of a process pays for cold code paths and connection pools
          if (i > 0) {
            connected.push(connectedAt - start);
            if (upgradedAt !== undefined) upgraded.push(upgradedAt - start);
          }
        } finally {
          client.socket.close();
        }
      }
      result.connect = { connected: summary(connected) };
      if (upgraded.length) result.connect.upgraded = summary(upgraded);
    });
  }

  if (plan.acks > 0) {
    await step("ack", async () => {
      await settle();
      const client = connect(io, url, plan.transports);
      try {
        await within(client.connected, 10000, "connect");
        const transport = client.engine.transport.name;
        if (plan.transports && transport !== plan.transports[0]) throw new Error(`session on ${transport}, not ${plan.transports[0]}`);
        const message = "x".repeat(32);
        if (plan.warmup > 0) await acks(client.socket, message, plan.warmup, stepMs);
        await settle();
        result.ack = summary(await acks(client.socket, message, plan.acks, stepMs));
      } finally {
        client.socket.close();
      }
    });
  }
  return result;
}
