// @vitest-environment node
/** The stream's queue of packets not written yet: order, batch ends, bytes, compaction. */
import type { Packet } from "engine.io-parser";
import { describe, expect, it } from "vitest";
import { PacketQueue, packetBytes } from "../../../../src/server/transports/packet-queue.js";

const message = (data: Packet["data"]): Packet => ({ type: "message", data });

/** Takes everything, recording after which packet a batch ended. */
function drain(queue: PacketQueue): { data: unknown[]; ends: number[] } {
  const data: unknown[] = [];
  const ends: number[] = [];
  let packet: Packet | undefined;
  while ((packet = queue.shift())) {
    data.push(packet.data);
    if (queue.endOfBatch()) ends.push(data.length);
  }
  return { data, ends };
}

describe("PacketQueue", () => {
  it("gives packets back in order and says where each push ended, once", () => {
    const queue = new PacketQueue();
    queue.push([message("a"), message("b")]);
    queue.push([message("c")]);
    queue.push([message("d"), message("e"), message("f")]);
    expect(queue.size).toBe(6);
    expect(drain(queue)).toEqual({ data: ["a", "b", "c", "d", "e", "f"], ends: [2, 3, 6] });
    expect(queue.size).toBe(0);
    expect(queue.endOfBatch()).toBe(false);
  });

  it("counts the bytes of what waits: UTF-8 text, binary by length, none for packets without data", () => {
    const queue = new PacketQueue();
    queue.push([message("é"), message(new Uint8Array(5)), { type: "ping" }]);
    expect(queue.byteLength).toBe(2 + 5);
    queue.shift();
    expect(queue.byteLength).toBe(5);
    expect(packetBytes(message(new ArrayBuffer(3)))).toBe(3);
  });

  it("a batch taken in parts ends only with its last packet", () => {
    const queue = new PacketQueue();
    queue.push([message(1), message(2), message(3)]);
    queue.shift();
    expect(queue.endOfBatch()).toBe(false);
    queue.push([message(4)]);
    queue.shift();
    queue.shift();
    expect(queue.endOfBatch()).toBe(true);
    queue.shift();
    expect(queue.endOfBatch()).toBe(true);
  });

  it("clear() hands over what waits and forgets every batch", () => {
    const queue = new PacketQueue();
    queue.push([message("a"), message("b")]);
    queue.shift();
    expect(queue.clear().map((p) => p.data)).toEqual(["b"]);
    expect(queue.size).toBe(0);
    expect(queue.byteLength).toBe(0);
    queue.push([message("c")]);
    expect(drain(queue)).toEqual({ data: ["c"], ends: [1] });
  });

  it("keeps order and batch ends across compaction while packets keep coming", () => {
    const queue = new PacketQueue();
    const expected: number[] = [];
    const ends: number[] = [];
    let next = 0;
    let taken = 0;
    const seen: number[] = [];
    const seenEnds: number[] = [];
    for (let round = 0; round < 50; round++) {
      const batch = Array.from({ length: 1 + (round % 7) * 40 }, () => message(next++));
      queue.push(batch);
      expected.push(...batch.map((p) => p.data as number));
      ends.push(expected.length);
      // take a bit less than was added, so the front keeps growing until it is compacted
      for (let i = 0; i < batch.length - 1; i++) {
        seen.push(queue.shift()!.data as number);
        taken++;
        if (queue.endOfBatch()) seenEnds.push(taken);
      }
    }
    const rest = drain(queue);
    seen.push(...(rest.data as number[]));
    seenEnds.push(...rest.ends.map((end) => end + taken));
    expect(seen).toEqual(expected);
    expect(seenEnds).toEqual(ends);
  });
});
