/** Origin rules as pure functions over headers. */
import { describe, expect, it } from "vitest";
import { compileAllowedOrigins, isIframeOriginAcceptable, isRequestFromAllowedSite } from "../../../src/server/origin.js";

const allowed = compileAllowedOrigins(["https://app.example", "http://localhost:8080"]);

describe("compileAllowedOrigins", () => {
  it("matches exact origins only", () => {
    expect(allowed("https://app.example")).toBe(true);
    expect(allowed("http://localhost:8080")).toBe(true);
    expect(allowed("https://app.example:443")).toBe(false);
    expect(allowed("http://app.example")).toBe(false);
    expect(allowed("https://evil.app.example")).toBe(false);
  });

  it('refuses "*" and anything that is not a serialized origin', () => {
    expect(() => compileAllowedOrigins(["*"])).toThrow(/"\*"/);
    expect(() => compileAllowedOrigins(["https://a.example", "*"])).toThrow(/"\*"/);
    expect(() => compileAllowedOrigins(["https://app.example/"])).toThrow(/not an origin/);
    expect(() => compileAllowedOrigins(["app.example"])).toThrow(/not an origin/);
    expect(() => compileAllowedOrigins(["null"])).toThrow(/not an origin/);
  });

  it("accepts a predicate, true only when it returns true", () => {
    const check = compileAllowedOrigins((origin) => origin.endsWith(".example"));
    expect(check("https://a.example")).toBe(true);
    expect(check("https://a.test")).toBe(false);
  });
});

describe("isRequestFromAllowedSite", () => {
  const cases: [string, Record<string, string>, boolean][] = [
    ["no browser headers (Node, curl)", {}, true],
    ["allowed Origin", { origin: "https://app.example" }, true],
    ["other Origin", { origin: "https://evil.example" }, false],
    ['Origin "null"', { origin: "null" }, false],
    ["other Origin, even with an allowed Referer", { origin: "https://evil.example", referer: "https://app.example/" }, false],
    ["Origin on a same-origin request", { origin: "https://server.example", "sec-fetch-site": "same-origin" }, true],
    ["Sec-Fetch-Site same-origin", { "sec-fetch-site": "same-origin" }, true],
    ["Sec-Fetch-Site none (typed URL)", { "sec-fetch-site": "none" }, true],
    ["cross-site from an allowed page", { "sec-fetch-site": "cross-site", referer: "https://app.example/chat" }, true],
    ["cross-site from another page", { "sec-fetch-site": "cross-site", referer: "https://evil.example/" }, false],
    ["cross-site without Referer", { "sec-fetch-site": "cross-site" }, false],
    ["same-site from another page", { "sec-fetch-site": "same-site", referer: "https://evil.example/" }, false],
    ["same-site from an allowed page", { "sec-fetch-site": "same-site", referer: "https://app.example/" }, true],
    ["Referer only, allowed", { referer: "https://app.example/x?y" }, true],
    ["Referer only, other", { referer: "https://evil.example/" }, false],
    ["Referer garbage", { referer: "not a url" }, false],
  ];
  it.each(cases)("%s", (_, headers, expected) => {
    expect(isRequestFromAllowedSite(headers, allowed)).toBe(expected);
  });
});

describe("isRequestFromAllowedSite, browserOnly (JSONP, iframe)", () => {
  const cases: [string, Record<string, string>, boolean][] = [
    ["no browser headers (a no-referrer script over plain HTTP)", {}, false],
    ["allowed Origin", { origin: "https://app.example" }, true],
    ["other Origin", { origin: "https://evil.example" }, false],
    ['Origin "null"', { origin: "null" }, false],
    ["Origin on a same-origin request", { origin: "https://server.example", "sec-fetch-site": "same-origin" }, true],
    ["Sec-Fetch-Site same-origin", { "sec-fetch-site": "same-origin" }, true],
    ["Sec-Fetch-Site none", { "sec-fetch-site": "none" }, true],
    ["cross-site from an allowed page", { "sec-fetch-site": "cross-site", referer: "https://app.example/chat" }, true],
    ["cross-site without Referer", { "sec-fetch-site": "cross-site" }, false],
    ["same-site without Referer", { "sec-fetch-site": "same-site" }, false],
    ["Referer only, allowed", { referer: "https://app.example/x?y" }, true],
    ["Referer only, other", { referer: "https://evil.example/" }, false],
    ["Referer garbage", { referer: "not a url" }, false],
    ["X-Requested-With is no browser's word", { "x-requested-with": "XMLHttpRequest" }, false],
  ];
  it.each(cases)("%s", (_, headers, expected) => {
    expect(isRequestFromAllowedSite(headers, allowed, { browserOnly: true })).toBe(expected);
  });

  it("differs from the default rule only on requests that carry no browser header", () => {
    for (const [, headers] of cases) {
      if (Object.keys(headers).some((name) => ["origin", "referer", "sec-fetch-site"].includes(name))) {
        expect(isRequestFromAllowedSite(headers, allowed, { browserOnly: true })).toBe(isRequestFromAllowedSite(headers, allowed));
      }
    }
  });
});

describe("isIframeOriginAcceptable", () => {
  it("needs an allowed origin that the browser confirms (Origin/Referer naming it, or Sec-Fetch-Site same-origin)", () => {
    expect(isIframeOriginAcceptable("https://app.example", {}, allowed)).toBe(false);
    expect(isIframeOriginAcceptable("https://app.example", { "sec-fetch-site": "cross-site" }, allowed)).toBe(false);
    expect(isIframeOriginAcceptable("https://app.example", { "sec-fetch-site": "none" }, allowed)).toBe(false);
    expect(isIframeOriginAcceptable("https://app.example", { "sec-fetch-site": "same-origin" }, allowed)).toBe(true);
    expect(isIframeOriginAcceptable("https://app.example", { origin: "https://app.example" }, allowed)).toBe(true);
    expect(isIframeOriginAcceptable("https://app.example", { referer: "https://app.example/page" }, allowed)).toBe(true);
    expect(isIframeOriginAcceptable("https://app.example", { referer: "http://localhost:8080/" }, allowed)).toBe(false);
    expect(isIframeOriginAcceptable("https://app.example", { origin: "http://localhost:8080" }, allowed)).toBe(false);
    const page = { referer: "https://app.example/page" };
    expect(isIframeOriginAcceptable("https://evil.example", { referer: "https://evil.example/" }, allowed)).toBe(false);
    expect(isIframeOriginAcceptable("https://app.example/", page, allowed)).toBe(false);
    expect(isIframeOriginAcceptable(undefined, page, allowed)).toBe(false);
  });
});
