/**
 * Upstream encoding: a lone surrogate (half of an emoji cut by `slice`) goes up as U+FFFD on
 * JSONP, as on every other transport, and an encoder that throws is a typed error and a close,
 * never a throw out of `send`.
 */
import { afterEach, expect, test, vi } from "vitest";
import { resolveEnvironment } from "../../../src/env.js";
import { EncodingError } from "../../../src/errors.js";
import type { Packet } from "../../../src/protocol.js";
import { BaseSocket } from "../../../src/socket.js";
import { encodeJsonpForm, jsonp, wellFormed } from "../../../src/transports/jsonp.js";
import { type BodySize, createHttpWriter, postText } from "../../../src/transports/upstream.js";
import { makeContext } from "../support/context.js";
import { record } from "../../support/events.js";

const message = (data: string): Packet => ({ type: "message", data });

afterEach(() => {
  for (const script of document.querySelectorAll("script")) script.remove();
});

test.each([
  ["a\uD83D", "a\uFFFD"],
  ["\uDE00b", "\uFFFDb"],
  ["\uDE00\uD83D", "\uFFFD\uFFFD"],
  ["\uD83D\uD83D\uDE00", "\uFFFD\uD83D\uDE00"],
  ["😀 é \u001e", "😀 é \u001e"],
  ["", ""],
])("wellFormed(%j) is %j", (input, output) => {
  expect(wellFormed(input)).toBe(output);
});

test("the form value of a lone surrogate is U+FFFD's UTF-8, as TextEncoder writes it", () => {
  expect(encodeJsonpForm("4a\uD83D")).toBe("4a%EF%BF%BD");
  expect(encodeJsonpForm("4😀")).toBe("4%F0%9F%98%80");
  const [bytes] = [new TextEncoder().encode("a\uD83D")];
  expect(Array.from(bytes)).toEqual([0x61, 0xef, 0xbf, 0xbd]);
});

function jsonpSetup(maxPayload = 1e6) {
  const fetchImpl = vi.fn((_url: string, _init: RequestInit) => Promise.resolve(new Response(null)));
  const env = resolveEnvironment({ fetch: fetchImpl as unknown as typeof fetch });
  const context = makeContext(env, {}, { sid: "abc", maxPayload }, "http://127.0.0.1:4567");
  const transport = jsonp.create(context);
  const events = record(transport, ["drain", "error", "close"]);
  transport.open();
  const bodies = () => fetchImpl.mock.calls.map(([, init]) => new URLSearchParams(init.body as string).get("d"));
  const drained = () =>
    new Promise<void>((resolve, reject) => {
      transport.once("drain", resolve);
      transport.once("error", reject);
    });
  return { transport, events, bodies, drained };
}

test("jsonp: a message ending in half an emoji goes up as U+FFFD, and the next one follows", async () => {
  const { transport, events, bodies, drained } = jsonpSetup();
  let done = drained();
  transport.send([message("a\uD83D")]);
  await done;
  done = drained();
  transport.send([{ type: "pong" }, message("b")]);
  await done;
  expect(bodies()).toEqual(["4a\uFFFD", "3\x1e4b"]);
  expect(events.map(([name]) => name)).toEqual(["drain", "drain"]);
  transport.close();
});

test("jsonp: batches sized by their encoded form count a lone surrogate as U+FFFD (9 bytes once encoded)", async () => {
  // small enough that every packet is measured on its own
  const { transport, bodies, drained } = jsonpSetup(20);
  const done = drained();
  transport.send([message("\uDE00x"), message("y\uD83D"), message("z")]);
  await done;
  // d=4%EF%BF%BDx is 13 bytes, the next packet 3 + 11 more: over 20, so it starts the next body
  expect(bodies()).toEqual(["4\uFFFDx", "4y\uFFFD\x1e4z"]);
  transport.close();
});

test("BaseSocket over jsonp: send() of a lone surrogate returns, and the session stays open", async () => {
  const fetchImpl = vi.fn((_url: string, _init: RequestInit) => Promise.resolve(new Response(null)));
  const socket = new BaseSocket("http://127.0.0.1:4567", { transports: [jsonp], env: { fetch: fetchImpl as unknown as typeof fetch } });
  const events = record(socket, ["error", "close"]);
  const script = document.querySelector("script")!;
  const index = Number(new URL(script.src).searchParams.get("j"));
  const registry = (window as unknown as { ___eio: ((payload: string) => void)[] }).___eio;
  registry[index]!('0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000}');
  expect(socket.state).toBe("open");
  const sent = new Promise<void>((resolve, reject) => {
    socket.once("close", (_reason, details) => reject(details.error));
    socket.send("a\uD83D", resolve);
  });
  await sent;
  expect(socket.state).toBe("open");
  expect(events).toEqual([]);
  expect(new URLSearchParams(fetchImpl.mock.calls[0]![1].body as string).get("d")).toBe("4a\uFFFD");
  socket.close();
});

test("an encoder that throws: EncodingError with the cause reported, and send() returns", () => {
  const env = resolveEnvironment({ XMLHttpRequest: undefined, fetch: vi.fn() as unknown as typeof fetch });
  const context = makeContext(env, {}, { sid: "s", maxPayload: 4 });
  const cause = new URIError("URI malformed");
  const failing: BodySize = {
    packet: () => {
      throw cause;
    },
    _separator: 1,
    _overhead: 0,
    _perChar: 3,
  };
  const reports: unknown[][] = [];
  const writer = createHttpWriter(context, { sent: () => reports.push(["sent"]), end: (error) => reports.push(["end", error]) }, postText("polling"), failing);
  expect(() => writer.send([message("too long to skip counting")])).not.toThrow();
  expect(reports.map(([name]) => name)).toEqual(["end"]);
  const error = reports[0]![1] as EncodingError;
  expect(error).toBeInstanceOf(EncodingError);
  expect(error.cause).toBe(cause);
  expect(writer.busy).toBe(false);
  expect(env.fetch).not.toHaveBeenCalled();
});
