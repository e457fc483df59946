// Fan-out across three processes behind haproxy, through Redis pub/sub: cometa/server with
// mixed transports against stock engine.io with WebSocket and long-polling, at several client
// counts, one broadcast a second. Loopback only; each run bounded (--seconds, default 30, plus
// the time to open the clients).
//
//   npm run build && node bench/lib/cluster-bench.mjs [--clients=500,1000,3000] [--seconds=30]
//                                                      [--engines=cometa,stock] [--out=DIR]
//
// Per run: fan-out latency p50/p99 (from the broadcasting process's publish to a client's
// message event, every client of every process), the three processes' CPU (% of one core,
// summed) and their RSS growth per session. Writes cluster-results.md and cluster-chart.svg
// (DIR, default bench/.cache/cluster/). Needs redis-server and haproxy (apt-get install -y redis-server haproxy).
import { fork, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { haproxyConfig } from "../../examples/cluster/balancers.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).map((arg) => arg.replace(/^--/, "").split("=")));
const clientCounts = (args.clients ?? "500,1000,3000").split(",").map(Number);
const seconds = Number(args.seconds ?? 30);
const engines = (args.engines ?? "cometa,stock").split(",");
const outDir = args.out ?? join(root, "bench/.cache/cluster");
// what each engine's clients are on: cometa's four held-open transports; stock's two
const mixes = {
  cometa: { websocket: 0.4, polling: 0.2, sse: 0.2, "xhr-streaming": 0.2 },
  stock: { websocket: 0.5, polling: 0.5 },
};

const binaries = {
  redis: ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].find(existsSync),
  haproxy: ["/usr/sbin/haproxy", "/usr/local/sbin/haproxy"].find(existsSync),
};
for (const [name, path] of Object.entries(binaries)) {
  if (!path) throw new Error(`${name} not found: apt-get install -y redis-server haproxy`);
}
for (const file of ["dist/server.mjs", "dist/cometa.mjs"]) {
  if (!existsSync(join(root, file))) throw new Error(`${file} missing: run npm run build first`);
}

const children = new Set();
process.once("exit", () => children.forEach((child) => child.kill("SIGKILL")));
function run(command, argv, env = {}) {
  const child = spawn(command, argv, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  children.add(child);
  child.once("exit", () => children.delete(child));
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk) => (output += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk) => (output += chunk));
  const line = (pattern) =>
    new Promise((resolve, reject) => {
      const timer = setInterval(() => {
        const found = output.split("\n").find((each) => pattern.test(each));
        if (found) resolve(found);
        else if (child.exitCode !== null) reject(new Error(`${command} exited:\n${output}`));
        else return;
        clearInterval(timer);
      }, 20);
    });
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", resolve);
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 3000).unref();
    });
  return { child, line, stop };
}

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
const waitForPort = (port) =>
  new Promise((resolve, reject) => {
    const deadline = Date.now() + 5000;
    const attempt = () => {
      const socket = createConnection({ port, host: "127.0.0.1" });
      socket.once("connect", () => (socket.destroy(), resolve()));
      socket.once("error", () => (socket.destroy(), Date.now() > deadline ? reject(new Error(`nothing on ${port}`)) : setTimeout(attempt, 50)));
    };
    attempt();
  });

/** utime + stime of `pid` in ms, and its RSS in bytes, from /proc. */
function usage(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rssPages = Number(readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]);
  return { cpuMs: ticks * 10, rss: rssPages * 4096 };
}
const sum = (pids, key) => pids.reduce((total, pid) => total + usage(pid)[key], 0);

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(engine, clients) {
  const dir = mkdtempSync(join(tmpdir(), "cometa-cluster-bench-"));
  const parts = [];
  try {
    const redisPort = await freePort();
    const redis = run(binaries.redis, ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir]);
    parts.push(redis);
    await redis.line(/Ready to accept connections/);
    const nodes = await Promise.all(
      ["a", "b", "c"].map(async (id) => {
        const node = run(process.execPath, [join(root, "bench/lib/cluster-node.mjs")], {
          ENGINE: engine,
          NODE_ID: id,
          REDIS_URL: `redis://127.0.0.1:${redisPort}`,
          SERVER_MODULE: join(root, "dist/server.mjs"),
        });
        parts.push(node);
        const { port } = JSON.parse(await node.line(/^\{"port"/));
        return { id, port, pid: node.child.pid, url: `http://127.0.0.1:${port}` };
      }),
    );
    const port = await freePort();
    writeFileSync(join(dir, "haproxy.cfg"), haproxyConfig({ bind: `127.0.0.1:${port}`, nodes, affinity: "sid", maxconn: 8000 }));
    const haproxy = run(binaries.haproxy, ["-db", "-f", join(dir, "haproxy.cfg")]);
    parts.push(haproxy);
    await waitForPort(port);
    const pids = nodes.map((node) => node.pid);

    const load = fork(join(root, "bench/lib/cluster-load.mjs"), [join(root, "dist/cometa.mjs")], { stdio: "inherit" });
    children.add(load);
    const ask = (message) => new Promise((resolve) => (load.once("message", resolve), load.send(message)));
    await new Promise((resolve) => load.once("message", resolve)); // ready
    const baseRss = sum(pids, "rss");
    const transports = Object.fromEntries(Object.entries(mixes[engine]).map(([name, share]) => [name, Math.round(clients * share)]));
    const opened = await ask({ open: { url: `http://127.0.0.1:${port}`, transports } });
    // let the handshakes' garbage go before reading memory
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const rssPerSession = (sum(pids, "rss") - baseRss) / opened.opened;

    const cpuBefore = sum(pids, "cpuMs");
    const started = Date.now();
    for (let i = 0; i < seconds; i++) {
      const node = nodes[i % nodes.length];
      await fetch(`${node.url}/broadcast`, { method: "POST" }).then((response) => response.text());
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + (i + 1) * 1000 - Date.now())));
    }
    const cpuPercent = ((sum(pids, "cpuMs") - cpuBefore) / (Date.now() - started)) * 100;
    // the machine's 1-minute load at the end of the window: other work on the same cores
    // lengthens every latency here
    const load1 = loadavg()[0];
    // the last broadcast's messages: a moment to arrive
    await new Promise((resolve) => setTimeout(resolve, 500));
    const { latencies, byTransport, lost } = await ask({ report: true });
    load.send({ close: true });
    await new Promise((resolve) => load.once("exit", resolve));
    latencies.sort((a, b) => a - b);
    const perTransport = Object.entries(byTransport).map(([name, values]) => {
      values.sort((a, b) => a - b);
      return `${name} ${percentile(values, 50).toFixed(1)}/${percentile(values, 99).toFixed(1)}`;
    });
    return {
      perTransport: perTransport.join(", "),
      load1,
      engine,
      clients,
      opened: opened.opened,
      failed: opened.failed,
      openSeconds: opened.ms / 1000,
      delivered: latencies.length,
      expected: opened.opened * seconds,
      lost,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      cpuPercent,
      cpuPerSessionUs: (cpuPercent / 100) * 1e6 / opened.opened,
      rssPerSessionKb: rssPerSession / 1024,
      mix: Object.entries(transports).map(([name, count]) => `${name} ${count}`).join(", "),
    };
  } finally {
    for (const part of parts.reverse()) await part.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function table(results) {
  const lines = [
    "| server | clients | transports | opened | delivered | p50 ms | p99 ms | p50/p99 ms by transport | CPU (3 processes, % of a core) | CPU µs/s per session | RSS KB per session | load avg |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of results) {
    lines.push(
      `| ${r.engine === "cometa" ? "cometa/server" : "engine.io 6.6"} | ${r.clients} | ${r.mix} | ${r.opened}${r.failed ? ` (${r.failed} failed)` : ""} | ${r.delivered}/${r.expected} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.perTransport} | ${r.cpuPercent.toFixed(1)} | ${r.cpuPerSessionUs.toFixed(1)} | ${r.rssPerSessionKb.toFixed(1)} | ${r.load1.toFixed(1)} |`,
    );
  }
  return lines.join("\n");
}

/** p50 and p99 against clients, one line per server, as SVG. */
function chart(results) {
  const width = 640, height = 360, left = 60, bottom = 40, top = 30, right = 150;
  const xs = [...new Set(results.map((r) => r.clients))].sort((a, b) => a - b);
  const maxY = Math.max(1, ...results.map((r) => r.p99)) * 1.1;
  const x = (clients) => left + ((width - left - right) * (xs.indexOf(clients) + 0.5)) / xs.length;
  const y = (ms) => height - bottom - ((height - bottom - top) * ms) / maxY;
  const series = [];
  const colours = { cometa: "#1f77b4", stock: "#d62728" };
  for (const engine of engines) {
    for (const [key, dash] of [["p50", ""], ["p99", "6 4"]]) {
      const points = results.filter((r) => r.engine === engine).map((r) => `${x(r.clients).toFixed(1)},${y(r[key]).toFixed(1)}`);
      series.push(`<polyline fill="none" stroke="${colours[engine]}" stroke-width="2" stroke-dasharray="${dash}" points="${points.join(" ")}"/>`);
    }
  }
  const ticks = Array.from({ length: 5 }, (_, i) => (maxY * i) / 4);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#fff"/>
<text x="${left}" y="18" font-size="14">Fan-out latency across 3 processes (Redis pub/sub, haproxy), one broadcast a second</text>
${ticks.map((ms) => `<line x1="${left}" x2="${width - right}" y1="${y(ms)}" y2="${y(ms)}" stroke="#ddd"/><text x="${left - 6}" y="${y(ms) + 4}" text-anchor="end">${ms.toFixed(0)}</text>`).join("\n")}
${xs.map((c) => `<text x="${x(c)}" y="${height - bottom + 18}" text-anchor="middle">${c}</text>`).join("\n")}
<text x="${(left + width - right) / 2}" y="${height - 6}" text-anchor="middle">clients</text>
<text x="14" y="${(top + height - bottom) / 2}" transform="rotate(-90 14 ${(top + height - bottom) / 2})" text-anchor="middle">ms</text>
${series.join("\n")}
${engines.map((engine, i) => `<line x1="${width - right + 10}" x2="${width - right + 40}" y1="${top + 20 + i * 40}" y2="${top + 20 + i * 40}" stroke="${colours[engine]}" stroke-width="2"/><text x="${width - right + 45}" y="${top + 24 + i * 40}">${engine === "cometa" ? "cometa/server" : "engine.io"} p50</text><line x1="${width - right + 10}" x2="${width - right + 40}" y1="${top + 36 + i * 40}" y2="${top + 36 + i * 40}" stroke="${colours[engine]}" stroke-width="2" stroke-dasharray="6 4"/><text x="${width - right + 45}" y="${top + 40 + i * 40}">p99</text>`).join("\n")}
</svg>
`;
}

const results = [];
for (const clients of clientCounts) {
  for (const engine of engines) {
    process.stderr.write(`${engine}, ${clients} clients, ${seconds} s...\n`);
    const result = await measure(engine, clients);
    results.push(result);
    process.stderr.write(`  p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, CPU ${result.cpuPercent.toFixed(1)}%, ${result.rssPerSessionKb.toFixed(1)} KB/session, opened in ${result.openSeconds} s\n`);
  }
}
const markdown = `# Cluster fan-out: cometa/server vs engine.io 6.6

\`node bench/lib/cluster-bench.mjs --clients=${clientCounts.join(",")} --seconds=${seconds}\`, ${new Date().toISOString().slice(0, 10)},
Node ${process.version}, ${cpus().length} cores (load avg: the machine's 1-minute load at the end of each run). Three server processes, redis-server and haproxy
(routing on the sid) on loopback, the clients (cometa's Node client, one transport each) in one more process on the
same cores. One broadcast a second from the processes in turn, through Redis pub/sub, to every client.
Latency: publish to the client's message event. CPU: the three server processes' user+system time over the
broadcast window. RSS: the three processes' growth once the clients are open, per client.

${table(results)}

![p50 and p99 against clients](cluster-chart.svg)
`;
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, "cluster-results.md"), markdown);
writeFileSync(join(outDir, "cluster-chart.svg"), chart(results));
console.log(table(results));
