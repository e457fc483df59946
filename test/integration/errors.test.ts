/**
 * Errors that say what to do, against real servers: the endpoint and the first useful cause in
 * the message, a wrong `path` or a transport the server does not serve named as such, and a
 * WebSocket the environment lacks reported instead of a silent stay on long-polling.
 */
import { createServer, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import {
  type CometaError,
  HandshakeError,
  ServerError,
  Socket,
  type SocketOptions,
  TransportError,
  type UpgradeError,
} from "../../src/index.js";
import { nodeEnv } from "../support/node-env.js";
import { startServer } from "../support/server.js";

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup.splice(0)) step();
});

/** A stock engine.io server; `fallback` answers what is not engine.io's. */
async function stockServer(fallback?: RequestListener): Promise<string> {
  return (await startServer({ engine: "stock", onRequest: fallback })).url;
}

function socket(url: string, options: SocketOptions = {}): Socket {
  const created = new Socket(url, { env: nodeEnv(), ...options });
  cleanup.push(() => created.close());
  return created;
}

/** The error and close reason of a socket that fails to open. */
function failure(opened: Socket): Promise<{ error: CometaError; reason: string; at: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    opened.on("open", () => reject(new Error("the socket opened")));
    opened.on("close", (reason, { error }) => resolve({ error: error!, reason, at: Date.now() - started }));
  });
}

describe("a wrong path", () => {
  test("answered 404: fails at once, naming the URL and the `path` option, not after connectTimeout", async () => {
    const url = await stockServer((_request, response) => response.writeHead(404).end("not found"));
    const { error, reason, at } = await failure(socket(url, { path: "/socket.io/", connectTimeout: 60_000 }));
    expect(reason).toBe("transport error");
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ status: 404, transport: "polling" });
    expect(error.message).toContain(`(at ${url}/socket.io/)`);
    expect(error.message).toContain("Nothing serves engine.io at /socket.io/: check `path` (socket.io's is /socket.io/)");
    // one round trip on loopback, where connectTimeout would have been a minute
    expect(at).toBeLessThan(5000);
  });

  test("not answered at all: the handshake timeout names the URL and asks about `path`", async () => {
    const url = await stockServer();
    const { error } = await failure(socket(url, { path: "/realtime/", connectTimeout: 100 }));
    expect(error).toBeInstanceOf(HandshakeError);
    expect(error.message).toBe(
      `no handshake within 100 ms: is the server up, and serving engine.io at \`path\` /realtime/? (at ${url}/realtime/)`,
    );
  });
});

test("a refused connection: the URL and ECONNREFUSED in the message, the cause chain intact", async () => {
  // a port that was just free: nothing listens there
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  const url = `http://127.0.0.1:${port}`;
  const { error } = await failure(socket(url));
  expect(error).toBeInstanceOf(TransportError);
  expect(error.message).toMatch(new RegExp(`^polling GET failed: network error: connect ECONNREFUSED 127\\.0\\.0\\.1:${port} \\(at ${url}/engine\\.io/\\)$`));
  expect(error.cause).toBeInstanceOf(TypeError);
});

describe.each(["sse", "xhr-streaming", "short-polling"] as const)("%s forced against stock engine.io", (name) => {
  test("says the server does not serve it and that cometa/server adds it", async () => {
    const url = await stockServer();
    const { error, reason } = await failure(socket(url, { transports: [name] }));
    expect(reason).toBe("transport error");
    // sse reads its stream through fetch here, which reads the refusal's body, as the others do
    expect(error).toBeInstanceOf(ServerError);
    expect(error.message).toContain(`The server does not serve ${name}: cometa/server adds it to engine.io`);
    expect(error.message).toContain(`(at ${url}/engine.io/)`);
  });
});

describe("no WebSocket in the environment", () => {
  function upgradeErrors(opened: Socket): Promise<UpgradeError[]> {
    const errors: UpgradeError[] = [];
    opened.on("upgradeError", (error) => errors.push(error));
    // the advertised upgrades are weighed right after `open`, in the same turn
    return new Promise((resolve) => opened.once("open", () => resolve(errors)));
  }

  test("is reported once, by upgradeError, with how to supply one", async () => {
    const url = await stockServer();
    const opened = socket(url, { env: nodeEnv({ WebSocket: undefined }) });
    const errors = await upgradeErrors(opened);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.transport).toBe("websocket");
    expect(errors[0]!.message).toBe(
      'The server offers websocket but there is no WebSocket here: pass one as `env: { WebSocket }` (in Node, from the "ws" package)',
    );
    // the session itself is fine, on long-polling
    expect(opened.transport.name).toBe("polling");
    expect(opened.state).toBe("open");
  });

  test("is not reported when the app left websocket out, or supplied one", async () => {
    const url = await stockServer();
    expect(await upgradeErrors(socket(url, { transports: ["polling"], env: nodeEnv({ WebSocket: undefined }) }))).toEqual([]);
    expect(await upgradeErrors(socket(url))).toEqual([]);
  });
});
