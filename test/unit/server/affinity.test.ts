import { describe, expect, test } from "vitest";
import { checkNodeId, nodeIdOf, prefixSid } from "../../../src/server/affinity.js";

describe("node ids carried in the sid", () => {
  test("a node id is 1 to 32 letters, digits, _ or -", () => {
    for (const id of ["a", "node-1", "Node_2", "x".repeat(32)]) expect(checkNodeId(id)).toBe(id);
    for (const id of ["", "x".repeat(33), "a.b", "a b", "ä", "a/b", 7, undefined, null]) {
      expect(() => checkNodeId(id), JSON.stringify(id)).toThrow(/nodeId must be 1 to 32 letters, digits, "_" or "-"/);
    }
  });

  test("the sid is the node id, a dot and engine.io's random part, which stays whole", () => {
    expect(prefixSid("a", "Xy-_09ABCDEFGHIJ")).toBe("a.Xy-_09ABCDEFGHIJ");
    expect(nodeIdOf(prefixSid("node-1", "Xy-_09ABCDEFGHIJ"))).toBe("node-1");
  });

  test("a sid without a node id names none", () => {
    for (const sid of [undefined, null, "", "Xy-_09ABCDEFGHIJ", ".abc", "a b.abc", "ä.abc"]) expect(nodeIdOf(sid), String(sid)).toBeUndefined();
    // only the first dot separates: engine.io's ids never hold one, so anything after is the random part
    expect(nodeIdOf("a.b.c")).toBe("a");
  });
});
