import { describe, expect, test } from "vitest";
import { BaseSocket } from "../../../src/socket.js";
import { shortPolling } from "../../../src/transports/short-polling.js";
import { origin, useFakeEngine } from "../support/fake-engine.js";
import { closed } from "../../support/events.js";

const harness = useFakeEngine();

describe("short-polling poll tokens", () => {
  test("each answer's token goes back on the next GET and reaches neither the application nor the session's packets", async () => {
    const { engine } = harness;
    engine.script("GET", `6kT0\x1e0${JSON.stringify(engine.openData)}`);
    const socket = new BaseSocket(origin, { transports: [shortPolling], pollInterval: 1 });
    harness.cleanup(async () => {
      if (socket.state === "closed") return;
      const done = closed(socket);
      socket.close();
      await done;
    });
    const received: unknown[] = [];
    const packets: unknown[] = [];
    socket.on("message", (data) => received.push(data));
    socket.on("packet", (packet) => packets.push(packet));

    const answers = ["6kT1\x1e4hello", "6kT2", "6kT3\x1e4b\x1e4c", "6kT4\x1e6"];
    for (const answer of answers) {
      await engine.until(() => engine.heldGets.length === 1);
      engine.push(answer);
    }
    await engine.until(() => engine.heldGets.length === 1);

    const gets = engine.gets.map((request) => request.url.searchParams.get("k"));
    expect(gets).toEqual([null, "T0", "T1", "T2", "T3", "T4"]);
    expect(engine.gets.every((request) => request.url.searchParams.get("transport") === "short-polling")).toBe(true);
    expect(socket.state).toBe("open");
    expect(received).toEqual(["hello", "b", "c"]);
    expect(packets).toEqual([
      { type: "open", data: expect.any(String) },
      { type: "message", data: "hello" },
      { type: "noop" },
      { type: "message", data: "b" },
      { type: "message", data: "c" },
      { type: "noop" },
    ]);
  });
});
