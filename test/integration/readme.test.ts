/**
 * The README keeps its promises: the quick start runs as written (its two files, copied out of
 * the README, serve a page and echo), the two commands a newcomer needs are shown and exist,
 * and every command and link it gives points at something real.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, test } from "vitest";
import { Socket } from "../../src/index.js";
import { attach } from "../../src/server/index.js";
import { nodeEnv } from "../support/node-env.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const readme = readFileSync(join(root, "README.md"), "utf8");
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> };

/** The first fenced block of `language` after `marker` in the README. */
function block(marker: string, language: string): string {
  const from = readme.indexOf(marker);
  expect(from, `README has "${marker}"`).toBeGreaterThanOrEqual(0);
  const match = new RegExp("```" + language + "\\n([\\s\\S]*?)```").exec(readme.slice(from));
  expect(match, `a ${language} block after "${marker}"`).not.toBeNull();
  return match![1]!;
}

const children: ChildProcess[] = [];
let scratch: string | undefined;
afterAll(() => {
  for (const child of children) child.kill();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test("the quick start, copied out of the README, serves its page and the script, and echoes", async () => {
  if (!existsSync(join(root, "dist/server.mjs"))) throw new Error("dist/ is missing: run `npm run build` first");
  // inside the package, so `cometa` resolves to this checkout as it would from node_modules
  mkdirSync(join(root, ".tmp"), { recursive: true });
  scratch = mkdtempSync(join(root, ".tmp", "quick-start-"));
  const server = block("A server (`npm install cometa engine.io`), `server.mjs`", "js");
  const page = block("and its page, `index.html`", "html");
  expect(server.trim().split("\n").length + page.trim().split("\n").length).toBeLessThanOrEqual(20);
  writeFileSync(join(scratch, "server.mjs"), server);
  writeFileSync(join(scratch, "index.html"), page);
  // reports the port the unchanged server.mjs listens on (PORT=0: a free one)
  writeFileSync(
    join(scratch, "report-port.mjs"),
    `import net from "node:net";
     const listen = net.Server.prototype.listen;
     net.Server.prototype.listen = function (...args) {
       this.once("listening", () => console.log("listening " + this.address().port));
       return listen.apply(this, args);
     };`,
  );
  const child = spawn(process.execPath, ["--import", "./report-port.mjs", "server.mjs"], {
    cwd: scratch,
    env: { ...process.env, PORT: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk));
  const port = await new Promise<string>((done, fail) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      const found = /listening (\d+)/.exec(String(chunk));
      if (found) done(found[1]!);
    });
    child.on("exit", (code) => fail(new Error(`server.mjs exited with ${code}: ${stderr}`)));
  });
  const url = `http://127.0.0.1:${port}`;

  const html = await fetch(url);
  expect(html.headers.get("content-type")).toBe("text/html");
  expect(await html.text()).toBe(page);
  expect(await (await fetch(`${url}/cometa.min.js`)).text()).toMatch(/^var Cometa=/);

  // the page's three lines, in Node
  const socket = new Socket(url, { env: nodeEnv() });
  const echoed = new Promise<unknown>((done) => socket.on("message", done));
  const upgraded = new Promise<string>((done) => socket.on("upgrade", done));
  socket.on("open", () => socket.send("hello"));
  expect(await echoed).toBe("echo: hello");
  expect(await upgraded).toBe("websocket");
  socket.close();
}, 20_000);

test("shows the two commands a newcomer needs, and both scripts exist", () => {
  expect(readme).toContain("npm ci && npm run demo");
  expect(readme).toContain("npm ci && npm test");
  expect(manifest.scripts.demo).toMatch(/node examples\/chat\/server\.mjs$/);
  expect(existsSync(join(root, "examples/chat/server.mjs"))).toBe(true);
  expect(manifest.scripts.test).toContain("vitest run");
});

test("every example command names files that exist", () => {
  const commands = [...readme.matchAll(/`(node examples\/[^`]+)`/g)].map((match) => match[1]!);
  expect(commands.length).toBeGreaterThanOrEqual(3);
  for (const command of commands) {
    for (const [, file] of command.matchAll(/node (examples\/\S+\.mjs)/g)) expect(existsSync(join(root, file!)), file).toBe(true);
  }
});

test("every relative link of the README and docs/ points at a file", () => {
  for (const file of ["README.md", "docs/benchmarks.md", "docs/proxies.md", "docs/reconnect-api.md"]) {
    const text = readFileSync(join(root, file), "utf8");
    for (const [, target] of text.matchAll(/\]\(([^)#\s"'`]+)(?:#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      expect(existsSync(join(root, dirname(file), target!)), `${file} links ${target}`).toBe(true);
    }
  }
  // the long sections live in docs/ and are linked
  expect(readme).toContain("[docs/benchmarks.md](docs/benchmarks.md)");
  expect(readme).toContain("[docs/proxies.md](docs/proxies.md)");
  expect(readme).toContain("[docs/reconnect-api.md](docs/reconnect-api.md)");
});

test("the Delivery guarantees section names only tests that exist, and every option, error and event of resumption", () => {
  const from = readme.indexOf("## Delivery guarantees");
  expect(from, "README has a Delivery guarantees section").toBeGreaterThanOrEqual(0);
  const section = readme.slice(from, readme.indexOf("\n## ", from + 1));
  const files = [...new Set([...section.matchAll(/`(test\/[\w./-]+\.test\.ts)`/g)].map((match) => match[1]!))];
  expect(files.length).toBeGreaterThanOrEqual(5);
  for (const file of files) expect(existsSync(join(root, file)), `${file}, named under Delivery guarantees`).toBe(true);
  // what a reader must be able to look up: both sides' options, the errors a close carries, the events
  for (const name of ["resume.window", "resume.maxBytes", "ResumeError", "ResumeWindowError", "ResumeBufferFullError", "undelivered", "unsent", "resuming", "resumed"]) {
    expect(section, name).toContain(name);
  }
});

test("the resume defaults the README gives for cometa/server are the terms it grants", async () => {
  const http = createServer();
  const engine = attach(http);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = http.address() as AddressInfo;
    const open = await (await fetch(`http://127.0.0.1:${port}/engine.io/?EIO=4&transport=polling&resume=1`)).text();
    const { window, maxBytes } = (JSON.parse(open.slice(1)) as { resume: { window: number; maxBytes: number } }).resume;
    const size = maxBytes % 2 ** 20 === 0 ? `${maxBytes / 2 ** 20} MiB` : String(maxBytes);
    expect(readme).toContain(`| \`resume\` | \`{ window: ${window}, maxBytes: ${size} }\` |`);
    expect(readme).toContain(`| \`resume\` | server | \`{ window: ${window}, maxBytes: ${size} }\` |`);
    expect(readme).toContain(`| \`resume.window\` | server | \`${window}\` (ms) |`);
    expect(readme).toContain(`| \`resume.maxBytes\` | server | ${size} `);
  } finally {
    engine.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  }
});
