/** examples/echo runs as the README says and talks to cometa. */
import { afterAll, beforeAll, expect, test } from "vitest";
import { Socket } from "../../src/index.js";
import { messages, next } from "../support/events.js";
import { nodeEnv } from "../support/node-env.js";
// @ts-expect-error: a plain .mjs example without types
import { startEchoServer } from "../../examples/echo/server.mjs";

let demo: { url: string; close(): Promise<void> };
beforeAll(async () => {
  demo = await startEchoServer({ port: 0 });
});
afterAll(() => demo.close());

test("serves the page and the minified build it loads", async () => {
  const page = await fetch(demo.url);
  expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
  const html = await page.text();
  expect(html).toContain('<script src="/cometa.min.js"></script>');
  const script = await fetch(new URL("/cometa.min.js", demo.url));
  expect(script.status).toBe(200);
  expect(await script.text()).toMatch(/^var Cometa=/);
});

test("welcomes and echoes", async () => {
  const socket = new Socket(demo.url, { env: nodeEnv() });
  const [welcome] = await messages(socket, 1);
  expect(welcome).toMatch(/^welcome, you are .+ on polling$/);
  await next(socket, "upgrade");
  socket.send("hi there");
  expect(await messages(socket, 1)).toEqual(["hi there"]);
  socket.close();
});
