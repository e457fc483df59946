import { parse as engineIoParse } from "engine.io-client";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../../src/errors.js";
import { parse } from "../../../src/compat/parseuri.js";

const literals = [
  "http://localhost",
  "http://127.0.0.1:1234",
  "https://example.com:8443/socket.io/?a=1&b=&c#frag",
  "ws://[::1]:3000/path",
  "http://[2001:db8::1]/",
  "https://[fe80::1%25eth0]:8080/?x=1",
  "wss://user:pw@host.example:443/x/y.js?q=1=2",
  "http://user@h",
  "http://a/b.c/d",
  "http://a/b.",
  "http://a/b.c.d",
  "http://a/b.js/",
  "https://host/a//b///c/",
  "http://h:/p",
  "http://h?x",
  "http://h#only-anchor",
  "localhost:3000",
  "//foo",
  "/relative/path?x=1",
  "",
  "ftp://weird",
];

describe("parse, as engine.io-client's parseuri", () => {
  it.each(literals)("gives the same fields for %j", (literal) => {
    expect(parse(literal)).toEqual(engineIoParse(literal));
  });

  it("strips the brackets of an IPv6 host and flags it", () => {
    const uri = parse("http://[::1]:3000/socket.io");
    expect([uri.host, uri.port, uri.protocol, uri.ipv6uri]).toEqual(["::1", "3000", "http", true]);
  });

  it("refuses a URI longer than 8000 characters with a UsageError", () => {
    expect(() => parse("http://h/" + "a".repeat(8000))).toThrow(UsageError);
  });
});
