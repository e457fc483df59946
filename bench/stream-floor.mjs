#!/usr/bin/env node
/**
 * `npm run bench:floor`: what the runtime itself costs to read a burst downstream in each of
 * cometa's response shapes, with no engine.io and no cometa code on either side. A plain HTTP
 * server (its own process, on loopback) serves one burst, pre-encoded with src/wire.ts:
 *
 * - one response of packets joined by U+001E, read whole (`fetch().text()`): long-polling's shape;
 * - the same payloads as lines of about 16 KiB (cometa/server's frames: one
 *   `writableHighWaterMark`), read as a fetch stream: xhr-streaming's and sse's shape, as JSON
 *   strings (without `pf=1`) and as they are (plain frames, what cometa's client asks for);
 * - in Chromium, the same frames as `<script>` chunks of iframe documents with cometa's
 *   bootstrap (each posts its payload to the page), in documents of 1 MiB (cometa/server's
 *   default recycle for the iframe) and in one document.
 *
 * The ratios against the whole response are the most a streaming transport can reach against
 * long-polling on that runtime; writes bench/STREAM-FLOOR.md.
 *
 *   node bench/stream-floor.mjs [--rounds=9] [--node-only] [--out=FILE]
 */
import { fork } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { CHROMIUM, launchBrowser } from "./lib/browser.mjs";
import { benchDir, root, withTimeout } from "./lib/util.mjs";

const COUNT = 20000;
const SIZE = 100;
/** cometa/server's frames: about one response high-water mark (Node's default) each. */
const FRAME_CHARS = 16 * 1024;
const IFRAME_RECYCLE = 1024 * 1024;

const args = process.argv.slice(2);
const value = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;

/** src/wire.ts as an ES module, so the floor is encoded exactly as the wire says. */
async function loadWire() {
  const result = await build({ entryPoints: [join(root, "src/wire.ts")], bundle: true, format: "esm", write: false, logLevel: "silent" });
  return import(`data:text/javascript;base64,${Buffer.from(result.outputFiles[0].text).toString("base64")}`);
}

/** The burst as frames: payloads of 100 B packets joined by U+001E, each about FRAME_CHARS long. */
function framesOf(wire) {
  const packet = "4" + "x".repeat(SIZE - 1);
  const frames = [];
  let payload = [];
  let length = 0;
  for (let i = 0; i < COUNT; i++) {
    payload.push(packet);
    length += packet.length + 1;
    if (length >= FRAME_CHARS) {
      frames.push(payload.join(wire.payloadSeparator));
      payload = [];
      length = 0;
    }
  }
  if (payload.length > 0) frames.push(payload.join(wire.payloadSeparator));
  return frames;
}

// ------------------------------------------------------------------ the server (child process)

async function serve() {
  const wire = await loadWire();
  const frames = framesOf(wire);
  const whole = frames.join(wire.payloadSeparator);
  const lines = { json: frames.map((frame) => wire.encodeJsonLine(frame)), plain: frames.map((frame) => wire.encodeJsonLine(frame, true)) };
  const scripts = frames.map((frame) => wire.encodeIframeScript(frame));
  /** The scripts split into documents of at least `bytes` each (the last one shorter). */
  const documents = (bytes) => {
    const docs = [];
    let doc = [];
    let length = 0;
    for (const script of scripts) {
      doc.push(script);
      length += script.length;
      if (length >= bytes) {
        docs.push(doc.join(""));
        doc = [];
        length = 0;
      }
    }
    if (doc.length > 0) docs.push(doc.join(""));
    return docs;
  };
  const split = { recycled: documents(IFRAME_RECYCLE), one: documents(Infinity) };
  const page = pageHtml(wire);
  const server = createServer((req, res) => {
    const url = new URL(req.url, "http://floor");
    const text = (type, body) => {
      res.writeHead(200, { "Content-Type": type, "Cache-Control": "no-store" });
      res.end(body);
    };
    if (url.pathname === "/") return text("text/html; charset=utf-8", page);
    if (url.pathname === "/whole") return text(wire.jsonLineContentType, whole);
    if (url.pathname === "/lines") {
      // one write per frame, waiting for `drain` as cometa/server's streams do
      const body = lines[url.searchParams.get("as")];
      res.writeHead(200, { "Content-Type": wire.jsonLineContentType, "Cache-Control": "no-store" });
      let i = 0;
      const write = () => {
        while (i < body.length) if (!res.write(body[i++])) return res.once("drain", write);
        res.end();
      };
      return write();
    }
    if (url.pathname === "/doc") {
      const docs = split[url.searchParams.get("split")];
      const index = Number(url.searchParams.get("i"));
      const origin = url.searchParams.get("origin");
      return text(wire.iframeContentType, wire.iframeStart(2048, origin, "floor") + docs[index] + wire.iframeDocumentEnd);
    }
    res.writeHead(404).end();
  });
  server.listen(0, "127.0.0.1", () => {
    process.send({ ready: `http://127.0.0.1:${server.address().port}`, documents: { recycled: split.recycled.length, one: split.one.length } });
  });
}

/** The Chromium page: each run resolves with the ms from the request to the last packet. */
function pageHtml(wire) {
  return `<!doctype html><meta charset="utf-8"><body><script>
const SEP = ${JSON.stringify(wire.payloadSeparator)}, TAG = ${JSON.stringify(wire.iframeTag)};
const count = (payload) => payload.split(SEP).length;
window.readWhole = async () => {
  const t0 = performance.now();
  const n = count(await (await fetch("/whole")).text());
  return [performance.now() - t0, n];
};
window.readLines = async (as) => {
  const t0 = performance.now();
  const reader = (await fetch("/lines?as=" + as)).body.pipeThrough(new TextDecoderStream()).getReader();
  let n = 0, rest = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const lines = (rest + value).split("\\n");
    rest = lines.pop();
    for (const line of lines) if (line.trim() !== "") n += count(line[0] === '"' ? JSON.parse(line) : line);
  }
  return [performance.now() - t0, n];
};
// documents in turn, the next inserted once the last one posted its end marker, as cometa does
window.readFrames = (split, documents) => new Promise((resolve) => {
  const t0 = performance.now();
  let n = 0, next = 0, frame;
  const open = () => {
    const old = frame;
    frame = document.createElement("iframe");
    frame.style.display = "none";
    frame.src = "/doc?split=" + split + "&i=" + next++ + "&origin=" + encodeURIComponent(location.origin);
    document.body.appendChild(frame);
    if (old) old.remove();
  };
  const onMessage = (event) => {
    if (event.source !== frame.contentWindow || event.data[0] !== TAG) return;
    const body = event.data[2];
    if (typeof body === "string") n += count(body);
    else if (body === ${wire.iframeEnd}) {
      if (next < documents) return open();
      removeEventListener("message", onMessage);
      frame.remove();
      resolve([performance.now() - t0, n]);
    }
  };
  addEventListener("message", onMessage);
  open();
});
</script>`;
}

// ------------------------------------------------------------------ the runs

async function readWholeInNode(url) {
  const t0 = performance.now();
  const n = (await (await fetch(`${url}/whole`)).text()).split("\x1e").length;
  return [performance.now() - t0, n];
}

async function readLinesInNode(url, as) {
  const t0 = performance.now();
  const reader = (await fetch(`${url}/lines?as=${as}`)).body.pipeThrough(new TextDecoderStream()).getReader();
  let n = 0;
  let rest = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const lines = (rest + value).split("\n");
    rest = lines.pop();
    for (const line of lines) if (line.trim() !== "") n += (line[0] === '"' ? JSON.parse(line) : line).split("\x1e").length;
  }
  return [performance.now() - t0, n];
}

/** Median of the runs after the first two (warm-up), each checked to have read every packet. */
async function measure(label, rounds, run) {
  const times = [];
  for (let i = 0; i < rounds + 2; i++) {
    const [ms, packets] = await withTimeout(run(), 30_000, label);
    if (packets !== COUNT) throw new Error(`${label}: read ${packets} packets of ${COUNT}`);
    if (i >= 2) times.push(ms);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function main() {
  const rounds = Number(value("rounds", 9));
  const child = fork(fileURLToPath(import.meta.url), ["--serve"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  try {
    const { ready: url, documents } = await withTimeout(new Promise((resolve) => child.once("message", resolve)), 20_000, "floor server");
    const rows = [];
    const node = { whole: await measure("node whole", rounds, () => readWholeInNode(url)) };
    node.json = await measure("node JSON lines", rounds, () => readLinesInNode(url, "json"));
    node.plain = await measure("node plain lines", rounds, () => readLinesInNode(url, "plain"));
    rows.push(["Node " + process.version, node.whole, [["JSON lines, fetch stream", node.json], ["plain lines, fetch stream", node.plain]]]);

    if (!args.includes("--node-only") && existsSync(CHROMIUM)) {
      const browser = await launchBrowser();
      try {
        const page = await browser.newPage();
        await page.goto(url);
        const inPage = (fn, ...fnArgs) => page.evaluate(([name, rest]) => window[name](...rest), [fn, fnArgs]);
        const whole = await measure("chromium whole", rounds, () => inPage("readWhole"));
        const json = await measure("chromium JSON lines", rounds, () => inPage("readLines", "json"));
        const plain = await measure("chromium plain lines", rounds, () => inPage("readLines", "plain"));
        const recycled = await measure("chromium iframe", rounds, () => inPage("readFrames", "recycled", documents.recycled));
        const one = await measure("chromium iframe one", rounds, () => inPage("readFrames", "one", documents.one));
        rows.push([
          `Chromium ${browser.version}`,
          whole,
          [
            ["JSON lines, fetch stream", json],
            ["plain lines, fetch stream", plain],
            [`iframe, ${documents.recycled} documents of 1 MiB`, recycled],
            ["iframe, one document", one],
          ],
        ]);
      } finally {
        await browser.close();
      }
    }
    writeReport(rows, rounds);
  } finally {
    child.kill();
  }
}

function writeReport(rows, rounds) {
  const rate = (ms) => `${Math.round(COUNT / ms)}k/s`;
  const lines = [
    "# The runtimes' own floor for streamed bursts",
    "",
    `Generated by \`npm run bench:floor\` (\`node bench/stream-floor.mjs\`) on ${new Date().toISOString().replace(/\.\d+Z$/, "Z")}. ` +
      `${COUNT.toLocaleString("en")} packets of ${SIZE} B from a plain Node HTTP server on loopback (its own process), ` +
      `encoded with src/wire.ts, read with no engine.io and no cometa code; median of ${rounds} runs after 2 warm-ups. ` +
      `"× whole" is the rate against reading the same packets as one response (long-polling's shape): the most a streaming transport can reach against long-polling on that runtime.`,
    "",
    "| runtime | shape | ms | packets/s | × whole |",
    "| --- | --- | ---: | ---: | ---: |",
  ];
  for (const [runtime, whole, others] of rows) {
    lines.push(`| ${runtime} | one response, \`fetch().text()\` | ${whole.toFixed(1)} | ${rate(whole)} | 1.00× |`);
    for (const [shape, ms] of others) lines.push(`| ${runtime} | ${shape} | ${ms.toFixed(1)} | ${rate(ms)} | ${(whole / ms).toFixed(2)}× |`);
  }
  const out = value("out", join(benchDir, "STREAM-FLOOR.md"));
  writeFileSync(out, lines.join("\n") + "\n");
  console.log(lines.slice(4).join("\n"));
  console.log(`wrote ${out}`);
}

if (args.includes("--serve")) await serve();
else await main();
