/**
 * Downstream throughput and echo latency of cometa/server's stream transports (sse,
 * xhr-streaming) against long-polling, measured in one run with a raw HTTP client that only
 * splits frames, so the numbers are the server's. The server runs in a child process (its own
 * core), built from src/server/index.ts with esbuild.
 *
 *   node bench/lib/server-streams-bench.mjs [--count 20000] [--size 32] [--echo 500] [--rounds 3]
 *     [--entry path/to/server/index.ts] [--label name] [--client raw|cometa]
 *     [--transports long-polling,sse,xhr-streaming]
 *
 * `--client cometa` reads with this repo's Node client (src/index.ts, built with esbuild) instead
 * of the raw one, through bench/lib/scenarios.js as the main bench does: what an application sees.
 * `--entry` measures another copy of the server's sources (e.g. an older commit's, from
 * `git archive`); BENCH_SERVER_OPTIONS (JSON) adds server options.
 *
 * Prints one JSON object: per transport, messages/s for a burst of `count` messages of `size`
 * bytes sent in one turn by the server (median of `rounds`), and echo round trips p50/p90 in ms.
 */
import { fork } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer, request } from "node:http";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createClient, download, echo as echoes, payload } from "./scenarios.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const STEP_MS = 20_000;

if (process.argv[2] === "--serve") await serve(process.argv[3]);
else await main();

/** The child: cometa/server echoing, and answering `!source:N:SIZE` with N messages in one turn. */
async function serve(serverModule) {
  process.on("SIGINT", () => process.exit(0));
  const { Server } = await import(pathToFileURL(serverModule).href);
  const http = createServer();
  const engine = new Server({ pingInterval: 60_000, pingTimeout: 60_000, ...JSON.parse(process.env.BENCH_SERVER_OPTIONS ?? "{}") });
  engine.attach(http);
  engine.on("connection", (socket) => {
    socket.on("message", (data) => {
      if (typeof data === "string" && data.startsWith("!source:")) {
        const [, count, size] = data.split(":");
        // the main bench's payload, which its client (scenarios.js) checks
        const text = payload(Number(size), 7);
        for (let i = 0; i < Number(count); i++) socket.send(text);
        return;
      }
      socket.send(data);
    });
  });
  // the server's own CPU time, asked around each burst: a measure the machine's load barely moves
  process.on("message", (m) => {
    if (m === "cpu") {
      const { user, system } = process.cpuUsage();
      process.send({ cpuUs: user + system });
    }
  });
  http.listen(0, "127.0.0.1", () => process.send({ port: http.address().port }));
}

async function main() {
  const args = Object.fromEntries(
    process.argv.slice(2).reduce((pairs, arg, i, all) => (arg.startsWith("--") ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []),
  );
  const count = Number(args.count ?? 20_000);
  const size = Number(args.size ?? 32);
  const echoes = Number(args.echo ?? 500);
  const rounds = Number(args.rounds ?? 3);
  const client = args.client ?? "raw";

  const { build } = await import("esbuild");
  const outDir = join(root, "bench", ".cache", "server-streams");
  mkdirSync(outDir, { recursive: true });
  const label = args.label ?? "src";
  const serverModule = join(outDir, `server-${label}.mjs`);
  await build({
    entryPoints: [args.entry ?? join(root, "src/server/index.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    outfile: serverModule,
    logLevel: "error",
  });
  const execArgv = process.env.BENCH_PROF ? ["--cpu-prof", `--cpu-prof-dir=${outDir}`] : [];
  let libs;
  if (client === "cometa") {
    const clientModule = join(outDir, "client.mjs");
    await build({
      entryPoints: [join(root, "src/index.ts")],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      packages: "external",
      outfile: clientModule,
      logLevel: "error",
    });
    const [{ EventSource }, { default: WebSocket }] = await Promise.all([import("eventsource"), import("ws")]);
    libs = { Cometa: await import(pathToFileURL(clientModule).href), env: { WebSocket, EventSource } };
  }
  const child = fork(fileURLToPath(import.meta.url), ["--serve", serverModule], { stdio: "inherit", execArgv });
  const port = await new Promise((resolve, reject) => {
    child.once("message", (m) => resolve(m.port));
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
  const base = `http://127.0.0.1:${port}/engine.io/?EIO=4&`;
  const serverCpu = () =>
    new Promise((resolve) => {
      child.once("message", (m) => resolve(m.cpuUs));
      child.send("cpu");
    });
  const results = {};
  try {
    for (const transport of (args.transports ?? "long-polling,sse,xhr-streaming").split(",")) {
      const session = client === "cometa" ? await openCometa(base, transport, libs) : await open(base, transport);
      try {
        await session.throughput(Math.min(count, 2000), size); // warm-up
        const runs = [];
        const cpu = [];
        for (let r = 0; r < rounds; r++) {
          const before = await serverCpu();
          runs.push(await session.throughput(count, size));
          cpu.push((await serverCpu()) - before);
        }
        runs.sort((a, b) => a - b);
        cpu.sort((a, b) => a - b);
        const ms = runs[(runs.length - 1) >> 1];
        await session.echo(50); // warm-up
        const rtts = (await session.echo(echoes)).sort((a, b) => a - b);
        results[transport] = {
          downstreamPerSecond: Math.round((count / ms) * 1000),
          burstMs: Number(ms.toFixed(1)),
          serverCpuUsPerMessage: Number((cpu[(cpu.length - 1) >> 1] / count).toFixed(3)),
          echoP50Ms: Number(rtts[rtts.length >> 1].toFixed(3)),
          echoP90Ms: Number(rtts[Math.floor(rtts.length * 0.9)].toFixed(3)),
        };
      } finally {
        session.close();
      }
    }
  } finally {
    child.kill("SIGINT");
  }
  console.log(JSON.stringify({ label, client, count, size, echoes, rounds, results }, null, 2));
}

/** The same measurements through cometa's Node client, on one transport (no upgrade). */
async function openCometa(base, transport, libs) {
  const url = base.slice(0, base.indexOf("/engine.io/"));
  const name = transport === "long-polling" ? "polling" : transport;
  const c = createClient({ client: "cometa", transport: name }, libs, url);
  await c.opened;
  let cpuMs = 0;
  return {
    async throughput(n, bytes) {
      const cpu = process.cpuUsage();
      const ms = await download(c, bytes, n, STEP_MS);
      const used = process.cpuUsage(cpu);
      cpuMs = (used.user + used.system) / 1000;
      if (process.env.BENCH_CPU) console.error(transport, "client cpu ms", cpuMs, "of", ms);
      return ms;
    },
    echo: (n) => echoes(c, "echo", n, STEP_MS),
    close: () => c.close(),
  };
}

function post(url, body) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers: { "Content-Type": "text/plain;charset=UTF-8" } }, (res) => {
      res.resume();
      res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`POST ${res.statusCode}`))));
    });
    req.on("error", reject);
    req.end(body);
  });
}

function get(url) {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${res.statusCode} ${body}`))));
    });
    req.on("error", reject);
    req.end();
  });
}

/** A session whose received packets feed `onPacket`; long-polling keeps one GET held at all times. */
async function open(base, transport) {
  let onPacket = () => {};
  let closed = false;
  let url;
  let cancel = () => {};
  if (transport === "long-polling") {
    const openPacket = await get(`${base}transport=polling`);
    const sid = JSON.parse(openPacket.slice(1)).sid;
    url = `${base}transport=polling&sid=${sid}`;
    (async () => {
      while (!closed) {
        const body = await get(url).catch(() => "");
        for (const packet of body.split("\x1e")) onPacket(packet);
      }
    })();
  } else {
    const separator = transport === "sse" ? "\n\n" : "\n";
    const decode = transport === "sse" ? (frame) => JSON.parse(frame.slice(6)) : (frame) => JSON.parse(frame);
    let sid;
    // a recycled stream ends after recycleBytes: the client reopens it with the same sid
    const stream = (streamUrl, onOpen) => {
      const req = request(streamUrl, (res) => {
        let rest = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => {
          rest += chunk;
          let at;
          while ((at = rest.indexOf(separator)) !== -1) {
            const frame = rest.slice(0, at);
            rest = rest.slice(at + separator.length);
            if (frame.trim() === "" || frame.startsWith(":")) continue;
            // a frame carries the packets of one write, joined by U+001E (docs/wire.md)
            for (const packet of decode(frame).split("\x1e")) {
              if (sid === undefined && packet.startsWith("0")) {
                sid = JSON.parse(packet.slice(1)).sid;
                onOpen();
              } else onPacket(packet);
            }
          }
        });
        res.on("end", () => {
          if (!closed) stream(`${base}transport=${transport}&sid=${sid}`, () => {});
        });
      });
      req.on("error", () => {});
      req.end();
      cancel = () => req.destroy();
    };
    await new Promise((resolve) => stream(`${base}transport=${transport}`, resolve));
    url = `${base}transport=${transport}&sid=${sid}`;
  }
  const until = (predicate) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${transport}: no answer within ${STEP_MS} ms`)), STEP_MS);
      onPacket = (packet) => {
        if (!predicate(packet)) return;
        clearTimeout(timer);
        onPacket = () => {};
        resolve();
      };
    });
  return {
    /** Milliseconds from asking for `n` messages to the last one read. */
    async throughput(n, bytes) {
      let received = 0;
      const cpu = process.cpuUsage();
      const start = performance.now();
      const done = until((packet) => packet.startsWith("4") && ++received === n);
      await post(url, `4!source:${n}:${bytes}`);
      await done;
      const elapsed = performance.now() - start;
      const used = process.cpuUsage(cpu);
      if (process.env.BENCH_CPU) console.error(transport, "client cpu ms", (used.user + used.system) / 1000, "of", elapsed);
      return elapsed;
    },
    /** Round trips of `n` sequential echoes, in ms. */
    async echo(n) {
      const rtts = [];
      for (let i = 0; i < n; i++) {
        const text = `echo${i}`;
        const start = performance.now();
        const done = until((packet) => packet === `4${text}`);
        await post(url, `4${text}`);
        await done;
        rtts.push(performance.now() - start);
      }
      return rtts;
    },
    close() {
      closed = true;
      cancel();
      post(url, "1").catch(() => {});
    },
  };
}
