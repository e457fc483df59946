// @vitest-environment node
import { describe, expect, test } from "vitest";
import { UsageError } from "../../src/errors.js";
import { resolveReconnectOptions, resolveSocketOptions, type SocketOptions } from "../../src/options.js";
import type { TransportDefinition } from "../../src/transport.js";
import { fakeDefinition } from "./support/fake-transport.js";

const url = "http://localhost:3000";
const fake = fakeDefinition("fake").definition;
const other = fakeDefinition("other").definition;
const resolve = (options: SocketOptions, registry: readonly TransportDefinition[] = []) =>
  resolveSocketOptions(url, { transports: [fake], ...options }, registry);

describe("socket options", () => {
  test("defaults", () => {
    const settings = resolve({});
    expect(settings).toMatchObject({ upgrade: true, rememberUpgrade: false, connectTimeout: 20000, probeTimeout: 10000, trace: undefined });
    expect(settings.transport).toEqual({
      withCredentials: false,
      extraHeaders: {},
      binaryType: "arraybuffer",
      requestTimeout: 0,
      pollInterval: 1000,
      timestampRequests: true,
      maxIncomingBytes: 1e8,
    });
    expect(settings.endpoint.path).toBe("/engine.io/");
  });

  test("transports receive exactly their options, and no other", () => {
    const trace = () => {};
    const { transport } = resolve({
      path: "/rt",
      query: { token: "t" },
      upgrade: false,
      rememberUpgrade: true,
      connectTimeout: 5,
      probeTimeout: 6,
      trace,
      withCredentials: true,
      extraHeaders: { "X-A": "1" },
      binaryType: "blob",
      requestTimeout: 7,
      pollInterval: 8,
      timestampRequests: false,
      maxIncomingBytes: 9,
      // a key no socket knows
      ...({ agent: {} } as object),
    });
    expect(transport).toEqual({
      withCredentials: true,
      extraHeaders: { "X-A": "1" },
      binaryType: "blob",
      requestTimeout: 7,
      pollInterval: 8,
      timestampRequests: false,
      maxIncomingBytes: 9,
    });
  });

  test("extraHeaders is copied: a later change of the caller's object reaches no transport", () => {
    const headers: Record<string, string> = { "X-A": "1" };
    const { transport } = resolve({ extraHeaders: headers });
    headers["X-B"] = "2";
    expect(transport.extraHeaders).toEqual({ "X-A": "1" });
  });

  test("undefined values keep the defaults", () => {
    expect(resolve({ connectTimeout: undefined, binaryType: undefined }).connectTimeout).toBe(20000);
  });

  test.each([
    ["null options", null, /options must be an object/],
    ["negative connectTimeout", { connectTimeout: -1 }, /connectTimeout must be a number of milliseconds/],
    ["NaN probeTimeout", { probeTimeout: Number.NaN }, /probeTimeout/],
    ["string requestTimeout", { requestTimeout: "5" }, /requestTimeout/],
    ["negative pollInterval", { pollInterval: -5 }, /pollInterval/],
    ["zero maxIncomingBytes", { maxIncomingBytes: 0 }, /maxIncomingBytes must be a positive number/],
    ["bad binaryType", { binaryType: "text" }, /binaryType/],
    ["no transports", { transports: [] }, /no transports given/],
    ["an unknown name", { transports: ["carrier-pigeon"] }, /unknown transport "carrier-pigeon"/],
    ["not a definition", { transports: [{}] }, /unknown transport/],
  ])("%s throws UsageError", (_, options, message) => {
    const run = () => resolveSocketOptions(url, (options === null ? null : { transports: [fake], ...options }) as SocketOptions, [fake]);
    expect(run).toThrow(UsageError);
    expect(run).toThrow(message);
  });

  test("transports: names resolve through the registry, values pass as they are, in the order given", () => {
    expect(resolve({ transports: ["other", fake] as never }, [fake, other]).definitions).toEqual([other, fake]);
    // no `transports`: the registry, in its order
    expect(resolveSocketOptions(url, {}, [other, fake]).definitions).toEqual([other, fake]);
  });
});

describe("reconnect options", () => {
  test("defaults", () => {
    expect(resolveReconnectOptions({})).toEqual({
      retry: { initialDelay: 500, maxDelay: 10000, factor: 2, jitter: 0.5, maxAttempts: Infinity },
      limits: { maxMessages: 1000, maxBytes: 1e6 },
    });
  });

  test("a key set to undefined takes its default, as the socket's own options do", () => {
    expect(
      resolveReconnectOptions({
        connectTimeout: undefined,
        reconnect: { maxDelay: undefined, initialDelay: 100, jitter: undefined },
        buffer: { maxBytes: undefined, maxMessages: 5 },
      }),
    ).toEqual({
      retry: { initialDelay: 100, maxDelay: 10000, factor: 2, jitter: 0.5, maxAttempts: Infinity },
      limits: { maxMessages: 5, maxBytes: 1e6 },
    });
    expect(resolveReconnectOptions({ reconnect: undefined, buffer: undefined })).toEqual(resolveReconnectOptions({}));
  });

  test.each([
    ["negative maxDelay", { reconnect: { maxDelay: -1 } }, /maxDelay must be a non-negative number/],
    ["jitter above 1", { reconnect: { jitter: 2 } }, /jitter must be between 0 and 1/],
    ["string maxBytes", { buffer: { maxBytes: "1MB" } }, /maxBytes/],
    ["NaN maxMessages", { buffer: { maxMessages: Number.NaN } }, /maxMessages/],
  ])("%s throws UsageError", (_, options, message) => {
    expect(() => resolveReconnectOptions(options as never)).toThrow(message);
    expect(() => resolveReconnectOptions(options as never)).toThrow(UsageError);
  });
});
