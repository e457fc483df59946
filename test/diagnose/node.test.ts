/**
 * cometa/diagnose in Node, against real servers on 127.0.0.1: what Node can run (no document:
 * no iframe, no JSONP), a stock engine.io server that serves only its own transports and does
 * not echo, and a server that is not there.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import type { Socket as EngineSocket } from "engine.io";
import { expect, test } from "vitest";
import { diagnose, formatDiagnosis } from "../../src/diagnose.js";
import { transports as everyTransport } from "../../src/index.js";
import { nodeEnv } from "../support/node-env.js";
import { startServer } from "../support/server.js";

const echo = (session: EngineSocket) => session.on("message", (data: string) => session.send(data));

test("cometa/server that echoes: every transport Node can run opens and echoes, iframe and jsonp are not supported here", async () => {
  const server = await startServer({}, echo);
  const diagnosis = await diagnose(server.url, { socket: { env: nodeEnv() }, timeout: 3000, echoTimeout: 2500 });
  expect(diagnosis.attempts.map((attempt) => [attempt.name, attempt.supported, attempt.echo])).toEqual([
    ["polling", true, "echoed"],
    ["websocket", true, "echoed"],
    ["sse", true, "echoed"],
    ["xhr-streaming", true, "echoed"],
    ["iframe", false, "not tried"],
    ["jsonp", false, "not tried"],
    ["short-polling", true, "echoed"],
    ["ladder", true, "echoed"],
  ]);
  expect(diagnosis.ladder).toBe("websocket");
  const report = formatDiagnosis(diagnosis);
  expect(report).toContain("\niframe         not supported here: no document, or the page has an opaque origin\n");
  expect(report).toContain("\njsonp          not supported here: no document or fetch\n");
  await expect.poll(() => server.engine.clientsCount).toBe(0);
});

test("a stock engine.io server that does not echo: `no echo` within echoTimeout, and the transports it does not serve refused with why", async () => {
  const server = await startServer({ engine: "stock" });
  const transports = everyTransport.filter((definition) => ["polling", "websocket", "sse"].includes(definition.name));
  const diagnosis = await diagnose(server.url, { socket: { env: nodeEnv() }, transports, timeout: 3000, echoTimeout: 300 });
  const byName = new Map(diagnosis.attempts.map((attempt) => [attempt.name, attempt]));
  expect(byName.get("polling")).toMatchObject({ opened: true, echo: "no echo" });
  expect(byName.get("websocket")).toMatchObject({ opened: true, echo: "no echo" });
  expect(byName.get("sse")?.opened).toBe(false);
  expect(byName.get("sse")?.error?.name).toMatch(/^(ServerError|TransportError)$/);
  expect(byName.get("sse")?.error?.message).toContain("The server does not serve sse: cometa/server adds it to engine.io");
  const report = formatDiagnosis(diagnosis);
  expect(report).toMatch(/^polling {8}opened {2}handshake \d+ ms {2}no echo within 300 ms$/m);
  expect(report).toMatch(/^sse {12}FAILED {2}\w+Error: .*The server does not serve sse/m);
  expect(diagnosis.ladder).toBe("websocket");
  await expect.poll(() => server.engine.clientsCount).toBe(0);
});

test("nothing listening: every attempt fails fast with the cause, and the ladder did not open", async () => {
  const server = await startServer({});
  const url = server.url;
  await server.close();
  const diagnosis = await diagnose(url, { socket: { env: nodeEnv() }, timeout: 3000 });
  for (const attempt of diagnosis.attempts.filter((entry) => entry.supported)) {
    expect([attempt.name, attempt.opened, attempt.error?.name]).toEqual([attempt.name, false, "TransportError"]);
  }
  expect(diagnosis.attempts.find((attempt) => attempt.name === "polling")?.error?.message).toContain("ECONNREFUSED");
  expect(diagnosis.ladder).toBeUndefined();
  expect(diagnosis.durationMs).toBeLessThan(3000);
  expect(formatDiagnosis(diagnosis)).toContain("Ladder:      did not open\nWorking:     none\n");
});

test("`cometa/diagnose` as the package exports it (ES module and CommonJS, run from dist/) diagnoses", async () => {
  const server = await startServer({}, echo);
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const script = (load: string) =>
    `${load}.then(async ({ diagnose, formatDiagnosis }) => {
      const { transports } = await import("cometa");
      const polling = transports.filter((definition) => definition.name === "polling");
      const diagnosis = await diagnose(${JSON.stringify(server.url)}, { transports: polling, timeout: 3000 });
      console.log(formatDiagnosis(diagnosis).split("\\n")[4]);
    })`;
  // not execFileSync: the server answering the child runs in this process
  const run = async (args: string[]) => (await promisify(execFile)(process.execPath, args, { cwd: root, encoding: "utf8", timeout: 15_000 })).stdout.trim();
  expect(await run(["--input-type=module", "-e", script('import("cometa/diagnose")')])).toBe("Ladder:      ended on polling");
  expect(await run(["-e", script('Promise.resolve(require("cometa/diagnose"))')])).toBe("Ladder:      ended on polling");
});
