/**
 * The examples as a newcomer starts them, `node examples/<name>/server.mjs`: without a build
 * they say which command to run, and on a taken port they say so (PORT given) or take a free
 * one (PORT not given), in one line, never a stack trace.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const examples = [
  { name: "chat", build: "npm run build" },
  { name: "echo", build: "npm run build" },
  { name: "script-tag", build: "npm run build" },
  { name: "bundler", build: "npm run build && node examples/bundler/build.mjs" },
];

const children: ChildProcess[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill();
  await Promise.all(servers.splice(0).map((server) => new Promise((done) => server.close(done))));
});

/** Starts an example; resolves with its output once it printed `until` or exited. */
function start(cwd: string, script: string, env: Record<string, string | undefined>, until?: RegExp) {
  const child = spawn(process.execPath, [script], { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let stdout = "";
  let stderr = "";
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk;
      if (until?.test(stdout)) done({ code: null, stdout, stderr });
    });
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk));
    child.on("exit", (code) => done({ code, stdout, stderr }));
  });
}

/** Holds `port` on loopback (or finds it already held by someone else); resolves with it. */
async function occupy(port: number): Promise<number> {
  const server = createServer();
  const taken = await new Promise<boolean>((done) => {
    server.once("error", () => done(true));
    server.listen(port, "127.0.0.1", () => done(false));
  });
  if (!taken) servers.push(server);
  return taken ? port : (server.address() as { port: number }).port;
}

describe("without a build", () => {
  // the examples copied next to an empty dist/, dependencies linked from this checkout
  let tree: string;
  beforeAll(() => {
    tree = mkdtempSync(join(tmpdir(), "cometa-examples-"));
    cpSync(join(root, "examples"), join(tree, "examples"), {
      recursive: true,
      filter: (source) => !source.includes(join("bundler", "dist")),
    });
    symlinkSync(join(root, "node_modules"), join(tree, "node_modules"), "dir");
  });
  afterAll(() => rmSync(tree, { recursive: true, force: true }));

  test.each(examples)("$name says which command builds what it needs, and exits 1", async ({ name, build }) => {
    const { code, stdout, stderr } = await start(tree, `examples/${name}/server.mjs`, { PORT: "0" });
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain(`missing: run \`${build}\` first`);
  });
});

describe("on a taken port", () => {
  test.each(examples.filter(({ name }) => name !== "bundler"))("$name, PORT taken: says so and how to choose another", async ({ name }) => {
    const port = await occupy(0);
    const { code, stderr } = await start(root, `examples/${name}/server.mjs`, { PORT: String(port) });
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(
      `port ${port} is taken (another example still running?): choose another, e.g. PORT=${port + 1} node examples/${name}/server.mjs`,
    );
  });

  test("no PORT and 3000 taken: a free port is used, and said so", async () => {
    await occupy(3000);
    const { stdout, stderr } = await start(root, "examples/echo/server.mjs", { PORT: undefined }, /open http:\/\/127\.0\.0\.1:\d+\//);
    expect(stderr).toBe("");
    expect(stdout).toContain("port 3000 is taken (another example still running?), so a free one is used; set PORT to choose");
    const url = /open (http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(stdout)!;
    expect(url[2]).not.toBe("3000");
    expect((await fetch(url[1]!)).status).toBe(200);
  });
});
