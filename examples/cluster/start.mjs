// npm run demo:cluster: the chat on three cometa/server processes (server.mjs, nodes a, b and
// c), Redis for the broadcasts and haproxy in front, all started here and stopped by Ctrl-C.
//
//   npm run build && node examples/cluster/start.mjs       (PORT: haproxy's, default 3000)
//
// haproxy routes each request to the process holding its session, by the node id the sid
// starts with or by its SERVERID cookie (balancers.mjs). Redis and the processes listen on
// free loopback ports; haproxy's configuration is written to a temp dir, removed on exit.
// REDIS_SERVER and HAPROXY: the binaries' paths, when not on PATH.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { haproxyConfig } from "./balancers.mjs";
import { requireBuilt } from "../support.mjs";

const NODES = ["a", "b", "c"];

/** The binary `name`: from `variable` if set (it must exist), else the first on PATH or in sbin. */
function find(name, variable) {
  const set = process.env[variable];
  if (set) return existsSync(set) ? set : undefined;
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin"];
  return dirs.map((dir) => join(dir, name)).find((path) => path && existsSync(path));
}

function freePort(port = 0) {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const { port: bound } = server.address();
      server.close(() => resolve(bound));
    });
  });
}

const children = [];
function run(label, command, args, env = {}) {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  children.push(child);
  let output = "";
  const lines = [];
  const watchers = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding("utf8").on("data", (chunk) => {
      output += chunk;
      for (const line of chunk.split("\n").filter(Boolean)) {
        lines.push(line);
        watchers.forEach((watch) => watch(line));
        // the processes' own messages (errors, Redis trouble) are worth seeing
        if (label.startsWith("node")) console.log(`[${label}] ${line}`);
      }
    });
  }
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return {
    child,
    exited,
    output: () => output,
    /** The first line matching `pattern`; rejects if the process exits or 10 s pass first. */
    line: (pattern) =>
      new Promise((resolve, reject) => {
        const found = lines.find((line) => pattern.test(line));
        if (found) return resolve(found);
        const timer = setTimeout(() => reject(new Error(`${label} printed no ${pattern} within 10 s:\n${output}`)), 10_000);
        watchers.push((line) => pattern.test(line) && (clearTimeout(timer), resolve(line)));
        exited.then(({ code, signal }) => (clearTimeout(timer), reject(new Error(`${label} exited (${signal ?? code}):\n${output}`))));
      }),
  };
}

let dir;
let stopping;
function stop() {
  stopping ??= (async () => {
    // haproxy and the processes (whose sessions close), then Redis (started first)
    for (const group of [children.slice(1), children.slice(0, 1)]) {
      await Promise.all(
        group.map(
          (child) =>
            new Promise((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once("exit", resolve);
              child.kill("SIGTERM");
              setTimeout(() => child.kill("SIGKILL"), 3000).unref();
            }),
        ),
      );
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  })();
  return stopping;
}

async function main() {
  const binaries = { "redis-server": find("redis-server", "REDIS_SERVER"), haproxy: find("haproxy", "HAPROXY") };
  const missing = Object.keys(binaries).filter((name) => !binaries[name]);
  if (missing.length > 0) {
    console.error(
      `${missing.join(" and ")} not found. The cluster demo runs them: install with\n` +
        `  sudo apt-get install -y ${missing.join(" ")}       (Debian, Ubuntu)\n` +
        `  brew install ${missing.map((name) => (name === "redis-server" ? "redis" : name)).join(" ")}              (macOS)\n` +
        "or set REDIS_SERVER / HAPROXY to their paths.",
    );
    return 1;
  }
  if (!process.env.COMETA_SERVER) {
    try {
      requireBuilt([new URL("../../dist/server.mjs", import.meta.url), new URL("../../dist/cometa.min.js", import.meta.url)]);
    } catch (error) {
      console.error(error.message);
      return 1;
    }
  }
  const asked = process.env.PORT;
  let port;
  try {
    port = await freePort(asked === undefined ? 3000 : Number(asked));
  } catch {
    if (asked !== undefined) {
      console.error(`port ${asked} is taken: choose another, e.g. PORT=${Number(asked) + 1} npm run demo:cluster`);
      return 1;
    }
    port = await freePort(0);
    console.log(`port 3000 is taken, so ${port} is used; set PORT to choose`);
  }

  dir = mkdtempSync(join(tmpdir(), "cometa-cluster-"));
  const redisPort = await freePort();
  const redis = run("redis", binaries["redis-server"], [
    "--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir,
  ]);
  await redis.line(/Ready to accept connections/);
  const origins = [`http://localhost:${port}`, `http://127.0.0.1:${port}`].join(",");
  const server = fileURLToPath(new URL("./server.mjs", import.meta.url));
  const nodes = await Promise.all(
    NODES.map(async (id) => {
      const node = run(`node ${id}`, process.execPath, [server], { NODE_ID: id, PORT: "0", REDIS_URL: `redis://127.0.0.1:${redisPort}`, ORIGINS: origins });
      const { port: nodePort } = JSON.parse(await node.line(/^\{"node":/));
      return { id, port: nodePort };
    }),
  );
  const config = join(dir, "haproxy.cfg");
  writeFileSync(config, haproxyConfig({ bind: `127.0.0.1:${port}`, nodes }));
  const haproxy = run("haproxy", binaries.haproxy, ["-db", "-f", config]);
  await waitForPort(port, haproxy);

  console.log(`cluster chat: http://localhost:${port}/`);
  console.log(`  processes ${nodes.map((node) => `${node.id} on :${node.port}`).join(", ")}; redis on :${redisPort}; haproxy on :${port} (${config})`);
  console.log("  haproxy pins a browser to one process by cookie: open a second browser or a private window to land on another.");
  console.log("  Ctrl-C stops everything.");
  for (const { child } of [redis, haproxy]) {
    child.once("exit", (code, signal) => {
      if (stopping) return;
      console.error(`${child === redis.child ? "redis-server" : "haproxy"} exited (${signal ?? code}); stopping`);
      stop().then(() => process.exit(1));
    });
  }
  return undefined;
}

function waitForPort(port, { exited, output }) {
  let gone = false;
  exited.then(() => (gone = true));
  const deadline = Date.now() + 5000;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = createConnection({ port, host: "127.0.0.1" });
      socket.once("connect", () => {
        socket.destroy();
        resolve();
      });
      socket.once("error", () => {
        socket.destroy();
        if (gone) return reject(new Error(`haproxy exited:\n${output()}`));
        if (Date.now() > deadline) return reject(new Error(`haproxy did not listen on ${port}:\n${output()}`));
        setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => stop().then(() => process.exit(0)));
main().then(
  async (code) => {
    if (code !== undefined) {
      await stop();
      process.exitCode = code;
    }
  },
  async (error) => {
    console.error(error.message);
    await stop();
    process.exitCode = 1;
  },
);
