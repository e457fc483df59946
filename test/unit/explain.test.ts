// @vitest-environment node
/** Error messages completed with the endpoint, the first useful cause and a remedy. */
import { describe, expect, test } from "vitest";
import { HandshakeError, ServerError, TransportError, UpgradeError } from "../../src/errors.js";
import { explain, unavailable } from "../../src/explain.js";

const endpoint = "https://chat.example/engine.io/";

describe("explain", () => {
  test("a cause without a message (a browser's XMLHttpRequest after a CORS refusal) is named for what it means", () => {
    const xhr = { readyState: 4, status: 0, toString: () => "[object XMLHttpRequest]" };
    const error = explain(new TransportError("polling GET failed: network error", "polling", undefined, { cause: xhr }), endpoint, "/engine.io/", true);
    expect(error.message).toBe(
      "polling GET failed: network error: no reason given: unreachable, or refused by CORS (at https://chat.example/engine.io/)",
    );
    expect(error.message).not.toContain("[object");
    expect(error.cause).toBe(xhr);
  });

  test("takes the deepest cause with a message, and skips one the message already says", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:443"), { code: "ECONNREFUSED" });
    const fetchFailed = new TypeError("fetch failed", { cause: refused });
    const error = explain(new TransportError("polling GET failed: network error", "polling", undefined, { cause: fetchFailed }), endpoint, "/engine.io/", true);
    expect(error.message).toBe(`polling GET failed: network error: connect ECONNREFUSED 10.0.0.1:443 (at ${endpoint})`);
    const said = explain(new TransportError("websocket error: boom", "websocket", undefined, { cause: new Error("boom") }), endpoint, "/engine.io/", false);
    expect(said.message).toBe(`websocket error: boom (at ${endpoint})`);
  });

  test("is idempotent and keeps the class and fields", () => {
    const error = new ServerError(0, "Transport unknown", 400, "xhr-streaming");
    const once = explain(error, endpoint, "/engine.io/", true).message;
    expect(explain(error, endpoint, "/engine.io/", true)).toBe(error);
    expect(error.message).toBe(once);
    expect(error).toMatchObject({ name: "ServerError", code: 0, status: 400, transport: "xhr-streaming" });
  });

  test("a 404 points at `path`; a transport stock servers lack points at cometa/server", () => {
    expect(explain(new TransportError("polling request failed with HTTP 404", "polling", 404), endpoint, "/engine.io/", true).message).toContain(
      "Nothing serves engine.io at /engine.io/: check `path`",
    );
    const iframe = explain(new TransportError("iframe document refused", "iframe", 400), endpoint, "/engine.io/", true);
    expect(iframe.message).toContain("The server does not serve iframe");
    expect(iframe.message).toContain("cometa/server adds it to engine.io (with allowedOrigins)");
  });

  test("no remedy where the usual mistakes do not fit", () => {
    // after the handshake the server did serve the transport: a refusal then is something else
    const later = explain(new ServerError(0, "Transport unknown", 400, "sse"), endpoint, "/engine.io/", false);
    expect(later.message).toBe(`server refused the sse request (HTTP 400): Transport unknown (code 0) (at ${endpoint})`);
    // a stock transport refused: nothing to add but where
    const stock = explain(new ServerError(5, "Unsupported protocol version", 400, "polling"), endpoint, "/engine.io/", true);
    expect(stock.message).toBe(`server refused the polling request (HTTP 400): Unsupported protocol version (code 5) (at ${endpoint})`);
    expect(explain(new HandshakeError("open packet is not JSON"), endpoint, "/engine.io/", true).message).toBe(`open packet is not JSON (at ${endpoint})`);
    expect(explain(new UpgradeError("upgrade to sse failed: timeout", "sse"), endpoint, "/engine.io/", false).message).not.toContain("cometa/server");
  });
});

test("unavailable: how to supply the globals an app can pass, nothing for the others", () => {
  expect(unavailable("websocket")).toContain('pass one as `env: { WebSocket }` (in Node, from the "ws" package)');
  expect(unavailable("sse")).toContain('pass one as `env: { EventSource }` (in Node, from the "eventsource" package)');
  expect(unavailable("iframe")).toBeUndefined();
});
