/**
 * `attach` on a bare HTTP server: engine.io passes other paths to the server's earlier request
 * listeners, and with none they would hang. cometa/server answers them 404, so a client with
 * the wrong `path` fails at once instead of after its connectTimeout.
 */
import { afterEach, expect, test } from "vitest";
import { Socket } from "../../src/index.js";
import { nodeEnv } from "../support/node-env.js";
import { startServer } from "../support/server.js";

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup.splice(0)) step();
});

test("on a bare HTTP server, other paths get 404 saying where engine.io is", async () => {
  const { url } = await startServer({ path: "/realtime/" });
  const response = await fetch(`${url}/engine.io/?EIO=4&transport=polling`);
  expect(response.status).toBe(404);
  expect(await response.text()).toBe("Not found: engine.io is served at /realtime/");
  expect((await fetch(`${url}/realtime/?EIO=4&transport=polling`)).status).toBe(200);
});

test("so a client with the wrong path fails at once, naming `path`, not after connectTimeout", async () => {
  const { url } = await startServer();
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
  const { url: beforeUrl } = await startServer({ onRequest: (_request, response) => void response.writeHead(200).end("app before") });
  expect(await (await fetch(`${beforeUrl}/page`)).text()).toBe("app before");

  const { url: afterUrl, http: after } = await startServer();
  after.on("request", (_request, response) => void response.writeHead(200).end("app after"));
  const response = await fetch(`${afterUrl}/page`);
  expect(response.status).toBe(200);
  expect(await response.text()).toBe("app after");
});
