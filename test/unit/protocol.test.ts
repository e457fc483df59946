// @vitest-environment node
// (no DOM needed here; jsdom is for the files that use XHR, location or its realm)
import { describe, expect, test } from "vitest";
import { HandshakeError, ProtocolError, ServerError } from "../../src/errors.js";
import {
  decodeFrame,
  decodePayload,
  encodeFramePacket,
  encodeTextPacket,
  type Packet,
  parseOpenData,
  parseServerError,
  toBase64,
  utf8Length,
} from "../../src/protocol.js";
import { bytes } from "../support/binary.js";

const utf8 = (text: string) => new TextEncoder().encode(text).length;

describe("encodeTextPacket", () => {
  test.each([
    [{ type: "open" }, "0"],
    [{ type: "close" }, "1"],
    [{ type: "ping" }, "2"],
    [{ type: "pong" }, "3"],
    [{ type: "message" }, "4"],
    [{ type: "upgrade" }, "5"],
    [{ type: "noop" }, "6"],
    [{ type: "ping", data: "probe" }, "2probe"],
    [{ type: "pong", data: "probe" }, "3probe"],
    [{ type: "message", data: "hello" }, "4hello"],
    [{ type: "message", data: "" }, "4"],
    [{ type: "message", data: "héllo €😀" }, "4héllo €😀"],
  ] as [Packet, string][])("%o -> %s", (packet, expected) => {
    expect(encodeTextPacket(packet)).toBe(expected);
  });

  test.each([
    [[], "b"],
    [[1], "bAQ=="],
    [[1, 2], "bAQI="],
    [[1, 2, 3], "bAQID"],
    [[1, 2, 3, 4], "bAQIDBA=="],
    [[1, 2, 3, 4, 5], "bAQIDBAU="],
    [[255, 254, 253], "b//79"],
    [[0, 0, 0], "bAAAA"],
  ])("binary %j -> %s", (input, expected) => {
    expect(encodeTextPacket({ type: "message", data: new Uint8Array(input) })).toBe(expected);
    expect(encodeTextPacket({ type: "message", data: new Uint8Array(input).buffer })).toBe(expected);
  });

  test("binary from a view into a larger buffer encodes only the view's bytes", () => {
    const view = new Uint8Array([9, 1, 2, 3, 9]).subarray(1, 4);
    expect(encodeTextPacket({ type: "message", data: view })).toBe("bAQID");
    const dataView = new DataView(new Uint8Array([9, 104, 105, 9]).buffer, 1, 2);
    expect(encodeTextPacket({ type: "message", data: dataView })).toBe("b" + btoa("hi"));
  });

  test("toBase64 agrees with btoa on every byte value", () => {
    const all = new Uint8Array(256).map((_, i) => i);
    expect(toBase64(all)).toBe(btoa(String.fromCharCode(...all)));
    for (let length = 0; length < 8; length++) {
      const slice = all.subarray(250 - length, 250);
      expect(toBase64(slice)).toBe(btoa(String.fromCharCode(...slice)));
    }
  });
});

describe("encodeFramePacket", () => {
  test("text packets are text, binary stays the same binary object", () => {
    expect(encodeFramePacket({ type: "message", data: "hello" })).toBe("4hello");
    expect(encodeFramePacket({ type: "upgrade" })).toBe("5");
    const data = new Uint8Array([1, 2, 3]);
    expect(encodeFramePacket({ type: "message", data })).toBe(data);
  });
});

describe("decodePayload", () => {
  test("every packet type", () => {
    expect(decodePayload('0{"sid":"x"}\x1e1\x1e2\x1e3\x1e4hello\x1e5\x1e6\x1e2probe')).toEqual([
      { type: "open", data: '{"sid":"x"}' },
      { type: "close" },
      { type: "ping" },
      { type: "pong" },
      { type: "message", data: "hello" },
      { type: "upgrade" },
      { type: "noop" },
      { type: "ping", data: "probe" },
    ]);
  });

  test("4hello alone", () => {
    expect(decodePayload("4hello")).toEqual([{ type: "message", data: "hello" }]);
  });

  test("binary b+base64 becomes an ArrayBuffer", () => {
    const [first, second] = decodePayload("bAQID\x1eb");
    expect(first!.type).toBe("message");
    expect(bytes(first!.data)).toEqual([1, 2, 3]);
    expect(bytes(second!.data)).toEqual([]);
  });

  test("a message containing the other separators survives", () => {
    expect(decodePayload("4a\nb:c")).toEqual([{ type: "message", data: "a\nb:c" }]);
  });

  test.each([
    ["empty", ""],
    ["unknown type", "9x"],
    ["garbage", "<html>oops</html>"],
    ["unknown type after a good packet", "4ok\x1e9x"],
    ["empty packet after a separator", "4ok\x1e"],
  ])("%s throws ProtocolError", (_, payload) => {
    expect(() => decodePayload(payload)).toThrow(ProtocolError);
  });

  test("the ProtocolError carries the payload", () => {
    try {
      decodePayload("9x");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).data).toBe("9x");
    }
  });
});

describe("decodeFrame", () => {
  test("text and binary frames", () => {
    expect(decodeFrame("4hi")).toEqual({ type: "message", data: "hi" });
    expect(decodeFrame("3probe")).toEqual({ type: "pong", data: "probe" });
    const packet = decodeFrame(new Uint8Array([1, 2, 3]).buffer);
    expect(packet.type).toBe("message");
    expect(bytes(packet.data)).toEqual([1, 2, 3]);
  });

  test("binaryType blob turns binary frames into Blobs", async () => {
    const packet = decodeFrame(new Uint8Array([4, 5]).buffer, "blob");
    expect(packet.data).toBeInstanceOf(Blob);
    expect(bytes(new Uint8Array(await (packet.data as Blob).arrayBuffer()))).toEqual([4, 5]);
  });

  test.each([["", "empty"], ["9x", "unknown type"], [42, "a number"], [null, "null"]] as [unknown, string][])(
    "%j (%s) throws ProtocolError",
    (frame) => {
      expect(() => decodeFrame(frame)).toThrow(ProtocolError);
    },
  );
});

describe("decodeFrame refuses what is not engine.io", () => {
  test.each([
    ["b!!!!", "a character outside base64"],
    ["bAQ I", "whitespace inside base64"],
    ["bAQID\n", "a trailing newline"],
    ["bAQ", "missing padding"],
    ["bA", "a single character past a whole group"],
    ["bAQ===", "too much padding"],
    ["bA=QI", "padding inside"],
    ["bAQ-_", "base64url's alphabet"],
    ["", "an empty packet"],
    ["x", "a letter as type"],
    ["xhello", "a letter as type, with data"],
    [" 4hi", "a space before the type"],
    ["-1", "a sign as type"],
    ["7", "a digit past noop"],
    ["9x", "an unknown digit"],
  ])("%j (%s) throws ProtocolError", (frame) => {
    expect(() => decodeFrame(frame)).toThrow(ProtocolError);
    expect(() => decodePayload(`4ok\x1e${frame}`)).toThrow(ProtocolError);
  });

  test.each([
    ["b", []],
    ["bAA==", [0]],
    ["bAQI=", [1, 2]],
    ["b//79", [255, 254, 253]],
    ["bAQIDBA==", [1, 2, 3, 4]],
  ] as [string, number[]][])("%j decodes to %j", (frame, expected) => {
    const packet = decodeFrame(frame);
    expect(packet.type).toBe("message");
    expect(Object.prototype.toString.call(packet.data)).toBe("[object ArrayBuffer]");
    expect(bytes(packet.data)).toEqual(expected);
  });

  test("every byte value survives the round trip through base64", () => {
    const all = new Uint8Array(256).map((_, i) => i);
    expect(bytes(decodeFrame(encodeTextPacket({ type: "message", data: all })).data)).toEqual([...all]);
  });

  test("a type digit alone has no data; with data, the data is the rest as it is", () => {
    expect(decodeFrame("6")).toEqual({ type: "noop" });
    expect(decodeFrame("4 b")).toEqual({ type: "message", data: " b" });
    expect(decodeFrame("4bAQ")).toEqual({ type: "message", data: "bAQ" });
  });
});

describe("utf8Length", () => {
  test.each([
    ["", 0],
    ["abc", 3],
    ["é", 2],
    ["ߺ", 2],
    ["€", 3],
    ["\uffff", 3],
    ["😀", 4],
    ["a😀é€", 1 + 4 + 2 + 3],
    ["\ud800", 3],
    ["\udc00", 3],
    ["\ud800a", 4],
    ["a\udc00\ud800", 7],
    ["\ud800\ud800", 6],
    ["\udc00\ud800\udc00", 3 + 4],
  ])("%j is %i bytes", (text, expected) => {
    expect(utf8Length(text)).toBe(expected);
  });
});

describe("encodeTextPacket sizes", () => {
  test.each([
    [{ type: "ping" }, 1],
    [{ type: "ping", data: "probe" }, 6],
    [{ type: "message", data: "" }, 1],
    [{ type: "message", data: "hello" }, 6],
    [{ type: "message", data: "é😀" }, 7],
    [{ type: "message", data: new Uint8Array(0) }, 1],
    [{ type: "message", data: new Uint8Array(1) }, 5],
    [{ type: "message", data: new Uint8Array(2) }, 5],
    [{ type: "message", data: new Uint8Array(3) }, 5],
    [{ type: "message", data: new Uint8Array(4) }, 9],
    [{ type: "message", data: new ArrayBuffer(300) }, 401],
  ] as [Packet, number][])("%o is %i bytes", (packet, expected) => {
    expect(utf8(encodeTextPacket(packet))).toBe(expected);
  });
});

describe("parseOpenData", () => {
  const valid = { sid: "abc", upgrades: ["websocket"], pingInterval: 25000, pingTimeout: 20000, maxPayload: 100000 };
  const open = (overrides: Record<string, unknown>) => JSON.stringify({ ...valid, ...overrides });

  test("happy path", () => {
    expect(parseOpenData(JSON.stringify(valid))).toEqual(valid);
  });

  test("a missing maxPayload defaults to 1e6", () => {
    expect(parseOpenData(open({ maxPayload: undefined })).maxPayload).toBe(1e6);
  });

  test("an empty upgrades list is fine", () => {
    expect(parseOpenData(open({ upgrades: [] })).upgrades).toEqual([]);
  });

  test.each([
    ["no data", undefined],
    ["binary data", new ArrayBuffer(2)],
    ["not JSON", "{sid:"],
    ["JSON null", "null"],
    ["a JSON number", "42"],
    ["a JSON string", '"sid"'],
    ["no sid", open({ sid: undefined })],
    ["empty sid", open({ sid: "" })],
    ["numeric sid", open({ sid: 7 })],
    ["no upgrades", open({ upgrades: undefined })],
    ["upgrades not an array", open({ upgrades: "websocket" })],
    ["upgrades with a non-string", open({ upgrades: ["websocket", 1] })],
    ["no pingInterval", open({ pingInterval: undefined })],
    ["zero pingInterval", open({ pingInterval: 0 })],
    ["negative pingInterval", open({ pingInterval: -1 })],
    ["string pingInterval", open({ pingInterval: "25000" })],
    ["no pingTimeout", open({ pingTimeout: undefined })],
    ["zero pingTimeout", open({ pingTimeout: 0 })],
    ["string pingTimeout", open({ pingTimeout: "20000" })],
    ["zero maxPayload", open({ maxPayload: 0 })],
    ["null maxPayload", open({ maxPayload: null })],
    ["string maxPayload", open({ maxPayload: "1e6" })],
  ])("%s throws HandshakeError", (_, data) => {
    expect(() => parseOpenData(data)).toThrow(HandshakeError);
  });

  test("a JSON failure keeps its cause", () => {
    try {
      parseOpenData("{");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(HandshakeError);
      expect((error as HandshakeError).cause).toBeInstanceOf(SyntaxError);
    }
  });
});

describe("parseServerError", () => {
  test("engine.io's JSON error", () => {
    const error = parseServerError('{"code":1,"message":"Session ID unknown"}', 400, "polling");
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ code: 1, serverMessage: "Session ID unknown", status: 400, transport: "polling" });
    expect(error!.message).toContain("Session ID unknown");
    expect(error!.message).toContain("400");
  });

  test.each([
    ["not JSON", "Bad Request"],
    ["empty", ""],
    ["JSON null", "null"],
    ["no code", '{"message":"x"}'],
    ["string code", '{"code":"1","message":"x"}'],
    ["no message", '{"code":1}'],
  ])("%s is not a server error", (_, body) => {
    expect(parseServerError(body, 400, "polling")).toBeUndefined();
  });
});
