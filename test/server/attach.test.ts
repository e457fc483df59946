/**
 * `attach` on a bare HTTP server: engine.io passes other paths to the server's earlier request
 * listeners, and with none they would hang. cometa/server answers them 404, so a client with
 * the wrong `path` fails at once instead of after its connectTimeout.
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, expect, test } from "vitest";
import { Socket } from "../../src/index.js";
import { attach } from "../../src/server/index.js";
import { nodeEnv } from "../support/node-env.js";

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup.splice(0)) step();
});

async function serve(http: HttpServer, options: Parameters<typeof attach>[1] = {}): Promise<string> {
  const engine = attach(http, options);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  cleanup.push(() => {
    engine.close();
    http.closeAllConnections();
    http.close();
  });
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
}

test("on a bare HTTP server, other paths get 404 saying where engine.io is", async () => {
  const url = await serve(createServer(), { path: "/realtime/" });
  const response = await fetch(`${url}/engine.io/?EIO=4&transport=polling`);
  expect(response.status).toBe(404);
  expect(await response.text()).toBe("Not found: engine.io is served at /realtime/");
  expect((await fetch(`${url}/realtime/?EIO=4&transport=polling`)).status).toBe(200);
});

test("so a client with the wrong path fails at once, naming `path`, not after connectTimeout", async () => {
  const url = await serve(createServer());
  const socket = new Socket(url, { path: "/socket.io/", connectTimeout: 60_000, env: nodeEnv() });
  cleanup.push(() => socket.close());
  const started = Date.now();
  const [reason, { error }] = await new Promise<unknown[]>((resolve) => socket.on("close", (...args) => resolve(args))) as [
    string,
    { error: Error & { status?: number } },
  ];
  expect(reason).toBe("transport error");
  expect(error.status).toBe(404);
  expect(error.message).toContain("Nothing serves engine.io at /socket.io/: check `path`");
  expect(Date.now() - started).toBeLessThan(5000);
});

test("a server's own request listener, before or after attach, answers for itself", async () => {
  const before = createServer((_request, response) => void response.writeHead(200).end("app before"));
  const beforeUrl = await serve(before);
  expect(await (await fetch(`${beforeUrl}/page`)).text()).toBe("app before");

  const after = createServer();
  const afterUrl = await serve(after);
  after.on("request", (_request, response) => void response.writeHead(200).end("app after"));
  const response = await fetch(`${afterUrl}/page`);
  expect(response.status).toBe(200);
  expect(await response.text()).toBe("app after");
});
