/** The compat entries export what engine.io-client 6.6 exports, name for name. */
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import * as browserEntry from "../../src/compat/engine.io-client.js";
import * as nodeEntry from "../../src/compat/node/engine.io-client.js";

// Node's own require: this project aliases `engine.io-client` for imports, not for this
const engineIoClient = createRequire(import.meta.url)("engine.io-client") as Record<string, unknown>;

describe("cometa/engine.io-client exports", () => {
  it.each([
    ["browser", browserEntry],
    ["node", nodeEntry],
  ] as const)("%s build: the 16 names of engine.io-client 6.6", (_, entry) => {
    // engine.io-client 6.6 releases also export the two socket layers the default Socket builds on
    const installed = Object.keys(engineIoClient).filter((name) => name !== "__esModule");
    const names = [...new Set([...installed, "SocketWithoutUpgrade", "SocketWithUpgrade"])].sort();
    expect(names).toHaveLength(16);
    expect(Object.keys(entry).sort()).toEqual(names);
    expect(entry.protocol).toBe(engineIoClient.protocol);
  });

  it("names transport classes on the prototype, as engine.io-client does", () => {
    const classes = ["XHR", "Fetch", "NodeXHR", "WebSocket", "NodeWebSocket", "WebTransport"] as const;
    const theirs = classes.map((name) => (engineIoClient[name] as { prototype: { name: string } }).prototype.name);
    expect(classes.map((name) => browserEntry[name].prototype.name)).toEqual(theirs);
  });

  it("nextTick is process.nextTick in Node, a microtask in the browser build", async () => {
    expect(nodeEntry.nextTick).toBe(process.nextTick);
    const order: string[] = [];
    browserEntry.nextTick(() => order.push("microtask"));
    order.push("sync");
    await Promise.resolve();
    expect(order).toEqual(["sync", "microtask"]);
  });

  it("installTimerFunctions gives Node timers, which have unref()", () => {
    const host: { setTimeoutFn?: typeof setTimeout; clearTimeoutFn?: typeof clearTimeout } = {};
    browserEntry.installTimerFunctions(host, {});
    const timer = host.setTimeoutFn!(() => {}, 1000);
    expect(typeof timer.unref).toBe("function");
    host.clearTimeoutFn!(timer);
  });
});
