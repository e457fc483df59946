/**
 * examples/cluster (`npm run demo:cluster`): three processes, Redis and haproxy started by one
 * command; two clients on different processes talk, each told which process it is on; Ctrl-C
 * (SIGINT) stops everything; a missing redis-server or haproxy is named with how to install it.
 */
import { spawn } from "node:child_process";
import { createConnection } from "node:net";
import { fileURLToPath } from "node:url";
import { describe, expect, onTestFinished, test } from "vitest";
import { ReconnectingSocket } from "../../src/index.js";
import { nodeEnv } from "../support/node-env.js";
import { collect, within } from "../support/events.js";
import { existsSync, readFileSync } from "node:fs";
import { chromium } from "playwright-core";
import { chromiumArgs, chromiumAvailable, chromiumPath, distDir } from "../browser/support/browser.js";
import { shipped } from "../../examples/cluster/balancers.mjs";
import { clusterAvailable, cometaServerModule } from "./support/cluster.js";
import { start } from "./support/processes.js";

const script = fileURLToPath(new URL("../../examples/cluster/start.mjs", import.meta.url));

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: "127.0.0.1" });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => (socket.destroy(), resolve(false)));
  });
}

describe.runIf(clusterAvailable())("examples/cluster", () => {
  test("one command starts the cluster; clients on two processes chat and each is told its process; SIGINT stops it all", async () => {
    const demo = start(process.execPath, [script], { PORT: "0", COMETA_SERVER: await cometaServerModule() });
    onTestFinished(() => demo.stop("SIGINT"));
    await demo.line(/Ctrl-C stops everything/, 20_000);
    const url = /cluster chat: (http:\/\/localhost:\d+\/)/.exec(demo.output())![1]!;
    const ports = [...demo.output().matchAll(/on :(\d+)/g)].map((match) => Number(match[1]));
    expect(ports).toHaveLength(5); // three processes, redis and haproxy

    const page = await (await fetch(url)).text();
    expect(page).toContain("cometa cluster chat");

    const clients = Array.from({ length: 2 }, () => {
      const socket = new ReconnectingSocket(url, { env: nodeEnv() });
      onTestFinished(() => void socket.close());
      return { socket, received: collect<unknown>(socket) };
    });
    await within(Promise.all(clients.map((client) => client.received.until(1))), 10_000, "no hello");
    const hellos = clients.map((client) => JSON.parse(client.received.received[0] as string) as { type: string; node: string; sid: string });
    for (const hello of hellos) {
      expect(hello.type).toBe("hello");
      expect(hello.sid.startsWith(`${hello.node}.`)).toBe(true);
    }
    // round-robin: the two handshakes went to two processes
    expect(hellos[0]!.node).not.toBe(hellos[1]!.node);

    clients[0]!.socket.send(JSON.stringify({ type: "say", name: "ada", text: "hello from one process" }));
    await within(Promise.all(clients.map((client) => client.received.until(2))), 10_000, "the message did not reach both");
    for (const client of clients) {
      expect(JSON.parse(client.received.received[1] as string)).toMatchObject({
        type: "message",
        name: "ada",
        text: "hello from one process",
        node: hellos[0]!.node,
      });
    }
    clients[1]!.socket.send(JSON.stringify({ type: "say", name: "", text: "x" }));
    await within(clients[1]!.received.until(3), 10_000, "no error");
    expect(JSON.parse(clients[1]!.received.received[2] as string)).toEqual({ type: "error", message: "name: 1 to 24 characters" });

    if (chromiumAvailable && existsSync(`${distDir}/cometa.min.js`)) {
      // the page itself, in two browsers (haproxy's cookie pins each to one process)
      const browser = await chromium.launch({ executablePath: chromiumPath, args: [...chromiumArgs], headless: true });
      try {
        const pages = await Promise.all(
          [0, 1].map(async () => {
            const page = await (await browser.newContext()).newPage();
            await page.goto(url, { waitUntil: "domcontentloaded" });
            await page.waitForFunction(() => /You are on process [abc] \(sid [abc]\./.test(document.getElementById("where")!.textContent!), undefined, { timeout: 10_000 });
            return page;
          }),
        );
        const shown = await Promise.all(pages.map((page) => page.textContent("#where")));
        const nodes = shown.map((text) => /process ([abc])/.exec(text!)![1]);
        expect(nodes[0]).not.toBe(nodes[1]);
        await pages[0]!.fill("input[name=name]", "grace");
        await pages[0]!.fill("input[name=text]", "across processes");
        await pages[0]!.click("button");
        for (const page of pages) {
          await page.waitForFunction(() => document.querySelector("#messages li")?.textContent?.includes("grace: across processes"), undefined, { timeout: 10_000 });
          expect(await page.textContent("#messages li .node")).toBe(nodes[0]);
        }
      } finally {
        await browser.close();
      }
    }

    await demo.stop("SIGINT");
    for (const port of ports) expect(await portOpen(port), `port ${port} still open`).toBe(false);
  });

  test("a missing redis-server or haproxy is named, with how to install it", async () => {
    for (const [variable, name] of [["REDIS_SERVER", "redis-server"], ["HAPROXY", "haproxy"]] as const) {
      const child = spawn(process.execPath, [script], { env: { ...process.env, PORT: "0", [variable]: "/nonexistent/" + name }, stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      expect(code).toBe(1);
      expect(stderr).toContain(`${name} not found`);
      expect(stderr).toContain(`apt-get install -y ${name}`);
    }
  });
});

test("the shipped haproxy.cfg and nginx.conf are what balancers.mjs, which the tests run, makes", () => {
  const file = (name: string) => readFileSync(new URL(`../../examples/cluster/${name}`, import.meta.url), "utf8");
  expect(file("haproxy.cfg")).toBe(shipped.haproxy());
  expect(file("nginx.conf")).toBe(shipped.nginx());
});
