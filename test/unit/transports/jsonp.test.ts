/**
 * JSONP's DOM work in jsdom: script tags for polls, the page's `___eio` callbacks, the no-cors
 * form POST upstream and what is left behind. Scripts are not loaded here (jsdom fetches no
 * resources): the test plays the server's part by calling the callback, or firing the events
 * a browser fires.
 */
import { afterEach, expect, test, vi } from "vitest";
import { resolveEnvironment } from "../../../src/env.js";
import type { ReceivedPacket } from "../../../src/protocol.js";
import { escapeJsonpPayload, jsonp } from "../../../src/transports/jsonp.js";
import { makeContext } from "../support/context.js";

type Registry = ((payload: string) => void)[];
const registry = () => (window as unknown as { ___eio: Registry }).___eio;
const scripts = () => Array.from(document.querySelectorAll("script"));

function setup(fetchImpl = vi.fn(() => Promise.resolve(new Response(null)))) {
  const env = resolveEnvironment({ fetch: fetchImpl as unknown as typeof fetch });
  const context = makeContext(env, {}, {}, "http://127.0.0.1:4567");
  const transport = jsonp.create(context);
  const packets: ReceivedPacket[] = [];
  const errors: Error[] = [];
  transport.on("packet", (packet) => packets.push(packet));
  transport.on("error", (error) => errors.push(error));
  return { context, transport, packets, errors, fetchImpl };
}

afterEach(() => {
  for (const script of scripts()) script.remove();
});

test("escapes payloads the way stock engine.io unescapes them", () => {
  expect(escapeJsonpPayload("literal \\n stays")).toBe("literal \\\\n stays");
  expect(escapeJsonpPayload("\\\\n")).toBe("\\\\\\n");
  // a line feed needs none once URL-encoded; escaped, one after a backslash would come out as `\n`
  expect(escapeJsonpPayload("a\nb")).toBe("a\nb");
  expect(escapeJsonpPayload("a\\\nb")).toBe("a\\\nb");
  expect(escapeJsonpPayload("4plain")).toBe("4plain");
});

test("polls with a script tag whose callback index is its slot in the page's registry", () => {
  const { transport, packets, context } = setup();
  transport.open();
  expect(scripts()).toHaveLength(1);
  const url = new URL(scripts()[0]!.src);
  expect(url.searchParams.get("transport")).toBe("polling");
  const index = Number(url.searchParams.get("j"));
  expect(url.searchParams.get("j")).toMatch(/^\d+$/);
  expect(typeof registry()[index]).toBe("function");
  registry()[index]!('0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000}\x1e4hi');
  expect(packets.map((packet) => packet.type)).toEqual(["open", "message"]);
  // the answered script is removed and the next poll is a new one
  expect(scripts()).toHaveLength(1);
  expect(scripts()[0]!.src).not.toBe(url.toString());
  transport.close();
  expect(scripts()).toHaveLength(0);
});

test("two transports on a page take two slots", () => {
  const first = setup();
  const second = setup();
  first.transport.open();
  second.transport.open();
  const [a, b] = scripts().map((script) => new URL(script.src).searchParams.get("j"));
  expect(a).not.toBe(b);
  first.transport.close();
  second.transport.close();
});

test("a script that fails to load is a TransportError and a close, leaving no tag", () => {
  const { transport, errors } = setup();
  transport.open();
  scripts()[0]!.dispatchEvent(new Event("error"));
  expect(errors.map((error) => error.name)).toEqual(["TransportError"]);
  expect(transport.state).toBe("closed");
  expect(scripts()).toHaveLength(0);
});

test("a script that loads without calling back is not engine.io: ProtocolError", () => {
  const { transport, errors } = setup();
  transport.open();
  scripts()[0]!.dispatchEvent(new Event("load"));
  expect(errors.map((error) => error.name)).toEqual(["ProtocolError"]);
});

test("sends upstream as a no-cors urlencoded form POST with `d`", async () => {
  const { transport, fetchImpl, context } = setup();
  context.session.sid = "abc";
  transport.open();
  const drained = new Promise<void>((resolve) => transport.on("drain", resolve));
  transport.send([{ type: "message", data: "line\nbreak & \\n" }]);
  await drained;
  const [url, init] = fetchImpl.mock.calls[0] as unknown as [string, RequestInit];
  expect(new URL(url).searchParams.get("sid")).toBe("abc");
  expect(new URL(url).searchParams.get("j")).toMatch(/^\d+$/);
  expect(init).toMatchObject({ method: "POST", mode: "no-cors", credentials: "include" });
  expect((init.headers as Record<string, string>)["Content-Type"]).toBe("application/x-www-form-urlencoded");
  expect(new URLSearchParams(init.body as string).get("d")).toBe("4line\nbreak & \\\\n");
  transport.close();
});

test("a failed POST is a TransportError", async () => {
  const { transport, errors } = setup(vi.fn(() => Promise.reject(new TypeError("network down"))));
  transport.open();
  const closed = new Promise<void>((resolve) => transport.on("close", resolve));
  transport.send([{ type: "message", data: "x" }]);
  await closed;
  expect(errors.map((error) => error.name)).toEqual(["TransportError"]);
});

test("a POST in flight when its transport closes is aborted: the browser does not keep it, nor send it again after a reset", async () => {
  const fetchImpl = vi.fn((_url: string, _init: RequestInit) => new Promise<Response>(() => {}));
  const { transport, context, errors } = setup(fetchImpl as never);
  context.session.sid = "abc";
  transport.open();
  transport.send([{ type: "message", data: "x" }]);
  const { signal } = fetchImpl.mock.calls[0]![1];
  expect(signal!.aborted).toBe(false);
  transport.close();
  expect(signal!.aborted).toBe(true);
  await Promise.resolve();
  expect(errors).toEqual([]);
});

test("closing empties the callback slot but keeps the indexes of the others", () => {
  const { transport } = setup();
  transport.open();
  const index = Number(new URL(scripts()[0]!.src).searchParams.get("j"));
  const length = registry().length;
  transport.close();
  expect(registry().length).toBe(length);
  expect(() => registry()[index]!("4late")).not.toThrow();
});

test("while the page loads, the first poll waits for its load event", () => {
  const page = Object.assign(new EventTarget(), { location: window.location, ___eio: [] as Registry });
  const loading = {
    readyState: "loading",
    createElement: document.createElement.bind(document),
    head: document.head,
    body: document.body,
  } as unknown as Document;
  const env = resolveEnvironment({ window: page as unknown as Window, document: loading, fetch: vi.fn() as never });
  const transport = jsonp.create(makeContext(env, {}, {}, "http://127.0.0.1:4567"));
  transport.open();
  expect(scripts()).toHaveLength(0);
  page.dispatchEvent(new Event("load"));
  expect(scripts()).toHaveLength(1);
  transport.close();
  expect(scripts()).toHaveLength(0);
});

test("sizes batches by the URL-encoded form body, which is what the server's limit counts", async () => {
  const fetchImpl = vi.fn(() => Promise.resolve(new Response(null)));
  const { transport, context } = setup(fetchImpl);
  context.session.sid = "abc";
  context.session.maxPayload = 200;
  transport.open();
  const texts = Array.from({ length: 40 }, (_, i) => `é ${i} & 🌍`);
  const drained = new Promise<void>((resolve) => transport.on("drain", resolve));
  transport.send(texts.map((data) => ({ type: "message" as const, data })));
  await drained;
  const bodies = fetchImpl.mock.calls.map((call) => (call as unknown as [string, RequestInit])[1].body as string);
  expect(bodies.length).toBeGreaterThan(1);
  for (const body of bodies) expect(body.length).toBeLessThanOrEqual(200);
  const sent = bodies.flatMap((body) => new URLSearchParams(body).get("d")!.split("\x1e"));
  expect(sent).toEqual(texts.map((text) => "4" + text));
  transport.close();
});

test("a single message over the limit once encoded is a TransportError, not a silent loss", async () => {
  const fetchImpl = vi.fn(() => Promise.resolve(new Response(null)));
  const { transport, context, errors } = setup(fetchImpl);
  context.session.sid = "abc";
  context.session.maxPayload = 100;
  transport.open();
  const closed = new Promise<void>((resolve) => transport.on("close", resolve));
  transport.send([{ type: "message", data: "é".repeat(40) }]);
  await closed;
  expect(fetchImpl).not.toHaveBeenCalled();
  expect(errors.map((error) => error.message)).toEqual([expect.stringMatching(/over the server's maxPayload/)]);
});
