// @vitest-environment node
/** The xhr-streaming line reader: lines across chunk boundaries, padding skipped, long lines bounded. */
import { describe, expect, test, vi } from "vitest";
import { createLineReader } from "../../../src/transports/line-reader.js";

describe("createLineReader", () => {
  test("lines across chunk boundaries, blank padding skipped", () => {
    const lines: string[] = [];
    const read = createLineReader((line) => lines.push(line));
    for (const chunk of ["   \n", '"4a', 'b"\n"4', 'c"\n\n', '"4d"']) read(chunk);
    expect(lines).toEqual(['"4ab"', '"4c"']);
    read("\n");
    expect(lines).toEqual(['"4ab"', '"4c"', '"4d"']);
  });

  test("a line of exactly the limit passes; one character more is an overflow, once, and nothing more is read", () => {
    const lines: string[] = [];
    const overflow = vi.fn();
    const read = createLineReader((line) => lines.push(line), 10, overflow);
    read("0123456789\n01234");
    read("56789");
    expect(lines).toEqual(["0123456789"]);
    expect(overflow).not.toHaveBeenCalled();
    read("X");
    expect(overflow).toHaveBeenCalledExactlyOnceWith(11);
    read("more\nlines\n");
    expect(lines).toEqual(["0123456789"]);
    expect(overflow).toHaveBeenCalledOnce();
  });

  test("an ended line longer than the limit in a single chunk is an overflow too", () => {
    const lines: string[] = [];
    const overflow = vi.fn();
    createLineReader((line) => lines.push(line), 10, overflow)("a".repeat(30) + "\nok\n");
    expect(lines).toEqual([]);
    expect(overflow).toHaveBeenCalledExactlyOnceWith(30);
  });

  test("a long line is scanned once: characters searched grow with its length, not its square", () => {
    const chunk = "x".repeat(16 * 1024);
    const chunks = 512; // 8 MB
    const original = String.prototype.indexOf;
    let searched = 0;
    const spy = vi.spyOn(String.prototype, "indexOf").mockImplementation(function (this: string, search: string, from?: number) {
      searched += this.length - (from ?? 0);
      return original.call(this, search, from);
    });
    let length = 0;
    try {
      const read = createLineReader((line) => (length = line.length));
      for (let i = 0; i < chunks; i++) read(chunk);
      read("\n");
    } finally {
      spy.mockRestore();
    }
    expect(length).toBe(chunk.length * chunks);
    expect(searched).toBeLessThanOrEqual(2 * chunk.length * chunks);
  });
});

test("a line is ended by the wire's separator only: \\r stays in the line (JSON escapes a frame's own)", () => {
  const lines: string[] = [];
  createLineReader((line) => lines.push(line))('"4a"\r\n"4b"\n');
  expect(lines).toEqual(['"4a"\r', '"4b"']);
});
