/**
 * The Node way in: `node --import cometa/engine.io-client/register app.mjs`, or `node --require
 * cometa/engine.io-client/register app.cjs`, runs an unchanged socket.io-client app on cometa's
 * built compat entry (needs `npm run build`).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { type IoTestServer, startIoServer } from "../support/server.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const apps = {
  import: fileURLToPath(new URL("./fixtures/node-app.mjs", import.meta.url)),
  require: fileURLToPath(new URL("./fixtures/node-app.cjs", import.meta.url)),
};
type Way = keyof typeof apps;

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function server(): Promise<IoTestServer> {
  const started = await startIoServer("stock");
  started.io.on("connection", (socket) => socket.on("echo", (text: string, ack: (text: string) => void) => ack(text)));
  return started;
}

function run(url: string, mode: "unref" | "ref", way: Way = "import", app = apps[way]): { child: ChildProcess; output: string[]; lines: (count: number) => Promise<string[]>; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [`--${way}`, "cometa/engine.io-client/register", app, url, mode], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  cleanup.push(() => child.exitCode === null && child.kill());
  const output: string[] = [];
  const waiters: (() => void)[] = [];
  let buffered = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split("\n");
    buffered = parts.pop()!;
    output.push(...parts);
    for (const wake of waiters.splice(0)) wake();
  });
  let errors = "";
  child.stderr!.on("data", (chunk: Buffer) => (errors += chunk.toString()));
  const lines = (count: number) =>
    new Promise<string[]>((resolve, reject) => {
      const check = () => {
        if (output.length >= count) return resolve(output.slice(0, count));
        if (child.exitCode !== null) return reject(new Error(`exited ${child.exitCode}: ${errors}`));
        waiters.push(check);
      };
      child.once("exit", () => waiters.splice(0).forEach((wake) => wake()));
      check();
    });
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output, lines, exit };
}

describe("node --import cometa/engine.io-client/register", () => {
  it("runs socket.io-client on cometa, upgrades to websocket, and with autoUnref lets the process exit", async () => {
    const { url } = await server();
    const { output, exit } = run(url, "unref");
    // nothing closes the socket: only autoUnref lets the process end while the server is up
    expect(await exit).toBe(0);
    expect(output).toContain("connected on cometa: true");
    expect(output).toContain("ack hello");
    expect(output).toContain("upgrade websocket");
  });

  it("keeps the process alive without autoUnref", async () => {
    const { url } = await server();
    const { child, lines } = run(url, "ref");
    const seen = await lines(3);
    expect(seen).toEqual(expect.arrayContaining(["connected on cometa: true", "ack hello", "upgrade websocket"]));
    const exited = await Promise.race([
      new Promise<boolean>((resolve) => child.once("exit", () => resolve(true))),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1000)),
    ]);
    expect(exited).toBe(false);
  });
});

describe("node --require cometa/engine.io-client/register", () => {
  it("runs a CommonJS socket.io-client app on cometa (socket.io-client's CommonJS build requires engine.io-client), upgrades, and exits with autoUnref", async () => {
    const { url } = await server();
    const { output, exit } = run(url, "unref", "require");
    expect(await exit).toBe(0);
    expect(output).toContain("connected on cometa: true");
    expect(output).toContain("ack hello");
    expect(output).toContain("upgrade websocket");
  });

  it("--import covers require too: the CommonJS app runs on cometa", async () => {
    const { url } = await server();
    const { output, exit } = run(url, "unref", "import", apps.require);
    expect(await exit).toBe(0);
    expect(output).toContain("connected on cometa: true");
  });

  it("a CommonJS app without the registration stays on engine.io-client", async () => {
    const { url } = await server();
    const child = spawn(process.execPath, [apps.require, url, "unref"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    cleanup.push(() => child.exitCode === null && child.kill());
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await new Promise((resolve) => child.once("exit", resolve));
    expect(output).toContain("connected on cometa: false");
  });
});
