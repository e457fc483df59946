/** The `<script>` string encoder, on literal strings. */
import { describe, expect, it } from "vitest";
import { encodeForScript } from "../../../src/server/script-encoding.js";

/** What a browser does with the literal: evaluate it as JavaScript. */
const evaluate = (literal: string): unknown => new Function(`return ${literal};`)();

const CASES: Record<string, string> = {
  "closing script tag": "</script><script>alert(1)</script>",
  "upper-case closing tag": "</SCRIPT >",
  "comment opener": "<!-- <script>",
  "script opener": "<script>",
  "ampersand and gt": "a && b > c &amp; &lt;",
  "U+2028 and U+2029": "line\u2028para\u2029end",
  quotes: `"double" 'single' \`back\``,
  backslashes: "\\ \\\\ \\u003c \\n",
  "control characters": "\n\r\t\0\x1e\x7f",
  "astral characters": "🎉 𝄞",
  empty: "",
};

describe("encodeForScript", () => {
  it.each(Object.entries(CASES))("%s: no `<`, evaluates back to the original", (_, input) => {
    const out = encodeForScript(input);
    expect(out).not.toContain("<");
    expect(out).not.toContain(">");
    expect(out).not.toMatch(/[\u2028\u2029]/);
    expect(JSON.parse(out)).toBe(input);
    expect(evaluate(out)).toBe(input);
  });

  it("escapes exactly as docs/wire.md says", () => {
    expect(encodeForScript("</script>")).toBe('"\\u003c/script\\u003e"');
    expect(encodeForScript("<!--")).toBe('"\\u003c!--"');
    expect(encodeForScript("a&b")).toBe('"a\\u0026b"');
    expect(encodeForScript("\u2028\u2029")).toBe('"\\u2028\\u2029"');
    expect(encodeForScript('"\\')).toBe('"\\"\\\\"');
  });

  it("keeps lone surrogates as escapes (valid UTF-8 on the wire) that evaluate back", () => {
    for (const input of ["\ud800", "\udfff", "a\ud83dz", "\ude00\ud83d", "🎉\ud800🎉"]) {
      const out = encodeForScript(input);
      expect(out).toMatch(/\\ud[89a-f][0-9a-f]{2}/);
      expect(out).not.toMatch(/[\ud800-\udfff](?![\udc00-\udfff])/u);
      expect(Buffer.from(out, "utf8").toString("utf8")).toBe(out);
      expect(evaluate(out)).toBe(input);
      expect(JSON.parse(out)).toBe(input);
    }
  });

  it("handles a 1 MB string of hostile content", () => {
    const unit = "</script><!--<script>\u2028\u2029\"'\\\ud800&>x";
    const input = unit.repeat(Math.ceil(1_000_000 / unit.length));
    const out = encodeForScript(input);
    expect(out.includes("<")).toBe(false);
    expect(evaluate(out)).toBe(input);
  });
});
