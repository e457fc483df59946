/**
 * Where the memory of a resumable session goes: a heap snapshot of cometa/server holding N idle
 * plain sessions and one holding N idle resumable ones (the raw clients of resume-swarm.mjs),
 * each over its own baseline, summed by constructor (objects), function (closures) and node type,
 * and printed as the difference per session, largest first. A diagnostic beside the resume
 * phase (bench/lib/resume.mjs), not part of `npm run bench`:
 *
 *   node --expose-gc bench/lib/resume-heap.mjs [--sessions=500] [--transport=websocket|polling] [--top=25]
 *
 * The server runs in this process (to snapshot it), built from src/ like the bench's; the clients
 * in a child process.
 */
import { createServer } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import v8 from "node:v8";
import { prepareBuilds } from "./build.mjs";
import { benchDir, sleep, spawnChild, withTimeout } from "./util.mjs";

const args = process.argv.slice(2);
const option = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const sessions = Number(option("sessions", 500));
const transport = option("transport", "websocket");
const top = Number(option("top", 25));
if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc");

const builds = await prepareBuilds();
const { Server } = await import(pathToFileURL(builds.server).href);

async function settle() {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await sleep(50);
  }
}

/** Self size and count per `type:name` of a heap snapshot taken now. */
async function census() {
  await settle();
  const chunks = [];
  for await (const chunk of v8.getHeapSnapshot()) chunks.push(chunk);
  const snapshot = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const { node_fields: fields, node_types: [types] } = snapshot.snapshot.meta;
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ["type", "name", "self_size"].map((f) => fields.indexOf(f));
  const out = new Map();
  const nodes = snapshot.nodes;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]];
    // strings, numbers and code by type only: their names are their contents
    const name = type === "object" || type === "closure" || type === "native" ? snapshot.strings[nodes[i + nameAt]] : "";
    const key = `${type}:${name}`;
    const entry = out.get(key) ?? { size: 0, count: 0 };
    entry.size += nodes[i + sizeAt];
    entry.count++;
    out.set(key, entry);
  }
  return out;
}

const diff = (after, before) => {
  const out = new Map();
  for (const [key, a] of after) {
    const b = before.get(key) ?? { size: 0, count: 0 };
    out.set(key, { size: a.size - b.size, count: a.count - b.count });
  }
  return out;
};

async function measure(offer) {
  const http = createServer();
  const engine = new Server({ pingInterval: 2000, pingTimeout: 20000 });
  engine.attach(http);
  engine.on("connection", (socket) => socket.on("message", (data) => socket.send(data)));
  await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${http.address().port}`;
  let ready;
  const readyPromise = new Promise((resolve) => (ready = resolve));
  const swarm = spawnChild(join(benchDir, "lib/resume-swarm.mjs"), [JSON.stringify({ url, transport, offer })], {
    onMessage: (message) => message?.ready && ready(),
  });
  try {
    await withTimeout(readyPromise, 20_000, "swarm start");
    await swarm.request({ type: "open", count: 50 }, 60_000);
    await swarm.request({ type: "close" });
    while (engine.clientsCount > 0) await sleep(100);
    // heap used first: a snapshot allocates much more than the sessions do
    await settle();
    const heapBefore = process.memoryUsage().heapUsed;
    const before = await census();
    const opened = await swarm.request({ type: "open", count: sessions }, 180_000);
    await sleep(4200);
    await settle();
    const heapAfter = process.memoryUsage().heapUsed;
    const after = await census();
    const n = engine.clientsCount;
    console.error(`${offer ? "resumable" : "plain"}: ${n} sessions on ${transport}, ${opened.granted} granted, heap ${((heapAfter - heapBefore) / n / 1024).toFixed(2)} KiB/session`);
    return { n, census: diff(after, before), heap: (heapAfter - heapBefore) / n };
  } finally {
    await swarm.request({ type: "close" }).catch(() => {});
    await swarm.stop();
    engine.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  }
}

const plain = await measure(false);
const resumable = await measure(true);
const rows = [];
for (const key of new Set([...plain.census.keys(), ...resumable.census.keys()])) {
  const p = plain.census.get(key) ?? { size: 0, count: 0 };
  const r = resumable.census.get(key) ?? { size: 0, count: 0 };
  rows.push({ key, bytes: r.size / resumable.n - p.size / plain.n, count: r.count / resumable.n - p.count / plain.n });
}
rows.sort((a, b) => Math.abs(b.bytes) - Math.abs(a.bytes));
console.log(`heap per session: plain ${(plain.heap / 1024).toFixed(2)} KiB, resumable ${(resumable.heap / 1024).toFixed(2)} KiB (${(resumable.heap / plain.heap).toFixed(2)}×)`);
console.log("resumable − plain, per session (bytes, objects):");
for (const row of rows.slice(0, top)) console.log(`${row.bytes.toFixed(0).padStart(8)} B ${row.count.toFixed(2).padStart(7)}  ${row.key}`);
process.exit(0);
