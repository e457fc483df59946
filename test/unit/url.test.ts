import { describe, expect, test } from "vitest";
import { type Environment, resolveEnvironment } from "../../src/env.js";
import { UsageError } from "../../src/errors.js";
import { endpointKey, endpointUrl, parseEndpoint } from "../../src/url.js";

const page = resolveEnvironment();
const noPage: Environment = resolveEnvironment({ window: undefined, document: undefined });

describe("parseEndpoint", () => {
  test("an absolute http URL", () => {
    expect(parseEndpoint("http://example.com:8080/ignored?a=1", "/engine.io/", {}, page)).toEqual({
      secure: false,
      host: "example.com:8080",
      path: "/engine.io/",
      query: { a: "1" },
    });
  });

  test.each([
    ["http://h", false],
    ["ws://h", false],
    ["https://h", true],
    ["wss://h", true],
  ])("%s is secure: %s", (uri, secure) => {
    expect(parseEndpoint(uri, "/engine.io/", {}, page).secure).toBe(secure);
  });

  test("no URL means the page's origin (jsdom's http://localhost:3000/)", () => {
    expect(location.href).toBe("http://localhost:3000/");
    expect(parseEndpoint(undefined, "/engine.io/", {}, page)).toMatchObject({ secure: false, host: "localhost:3000" });
  });

  test("a relative URL resolves against the page", () => {
    expect(parseEndpoint("//other.test:81", "/x/", {}, page).host).toBe("other.test:81");
    expect(parseEndpoint("/chat", "/x/", {}, page).host).toBe("localhost:3000");
  });

  test("outside a page a URL is required", () => {
    expect(() => parseEndpoint(undefined, "/engine.io/", {}, noPage)).toThrow(UsageError);
    expect(() => parseEndpoint("/relative", "/engine.io/", {}, noPage)).toThrow(UsageError);
    expect(parseEndpoint("http://h", "/engine.io/", {}, noPage).host).toBe("h");
  });

  test.each(["http://[oops", "ftp://example.com", "file:///etc/passwd", "javascript:alert(1)"])(
    "%s throws UsageError",
    (uri) => {
      expect(() => parseEndpoint(uri, "/engine.io/", {}, noPage)).toThrow(UsageError);
    },
  );

  test("an empty path throws UsageError", () => {
    expect(() => parseEndpoint("http://h", "", {}, page)).toThrow(UsageError);
  });

  test.each([
    ["/engine.io/", "/engine.io/"],
    ["/engine.io", "/engine.io/"],
    ["engine.io", "/engine.io/"],
    ["/a/b", "/a/b/"],
    ["/", "/"],
  ])("path %s becomes %s", (path, expected) => {
    expect(parseEndpoint("http://h", path, {}, page).path).toBe(expected);
  });

  test("the query option is merged over the URL's query", () => {
    expect(parseEndpoint("http://h/?a=1&b=2", "/e/", { b: "3", c: "4" }, page).query).toEqual({ a: "1", b: "3", c: "4" });
  });
});

describe("endpointUrl", () => {
  const endpoint = { secure: false, host: "h:1", path: "/engine.io/", query: { token: "a b" } };

  test("carries EIO=4, the query and the defined params", () => {
    const url = new URL(endpointUrl(endpoint, "http", { transport: "polling", sid: undefined, t: "x" }));
    expect(url.origin).toBe("http://h:1");
    expect(url.pathname).toBe("/engine.io/");
    expect(Object.fromEntries(url.searchParams)).toEqual({ token: "a b", EIO: "4", transport: "polling", t: "x" });
    expect(url.searchParams.has("sid")).toBe(false);
  });

  test("scheme follows secure", () => {
    expect(endpointUrl(endpoint, "ws", {})).toMatch(/^ws:\/\/h:1\/engine\.io\/\?/);
    expect(endpointUrl({ ...endpoint, secure: true }, "ws", {})).toMatch(/^wss:\/\//);
    expect(endpointUrl({ ...endpoint, secure: true }, "http", {})).toMatch(/^https:\/\//);
  });

  test("params override the query, EIO cannot be overridden by the query", () => {
    const url = new URL(endpointUrl({ ...endpoint, query: { EIO: "3", sid: "q", transport: "x" } }, "http", { sid: "real", transport: "polling" }));
    expect(url.searchParams.getAll("EIO")).toEqual(["4"]);
    expect(url.searchParams.getAll("sid")).toEqual(["real"]);
    expect(url.searchParams.getAll("transport")).toEqual(["polling"]);
  });
});

test("endpointKey ignores the ws/http difference and the query", () => {
  expect(endpointKey(parseEndpoint("ws://h:1/?a=1", "/e", {}, page))).toBe("http://h:1/e/");
  expect(endpointKey(parseEndpoint("https://h", "/e/", {}, page))).toBe("https://h/e/");
  expect(endpointKey(parseEndpoint("wss://h", "/e/", {}, page))).toBe(endpointKey(parseEndpoint("https://h", "/e/", {}, page)));
});
