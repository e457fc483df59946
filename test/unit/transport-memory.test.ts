// @vitest-environment node
import { expect, test } from "vitest";
import { transportMemory, volatileStorage } from "../../src/transport-memory.js";

test("remembers per endpoint, forgets, and recalls nothing where nothing was kept", () => {
  const storage = volatileStorage();
  const here = transportMemory(storage, "http://a/engine.io/");
  const there = transportMemory(storage, "http://b/engine.io/");
  expect(here.recall()).toBeUndefined();
  here.remember("websocket");
  expect(here.recall()).toBe("websocket");
  expect(there.recall()).toBeUndefined();
  // the same endpoint seen by another session
  expect(transportMemory(storage, "http://a/engine.io/").recall()).toBe("websocket");
  here.forget();
  expect(here.recall()).toBeUndefined();
});

test("kept in the storage under a key that names the endpoint", () => {
  const storage = volatileStorage();
  transportMemory(storage, "https://chat.example.com/engine.io/").remember("sse");
  expect(storage.getItem("cometa:transport:https://chat.example.com/engine.io/")).toBe("sse");
});

test("without a storage nothing is remembered and nothing fails", () => {
  const memory = transportMemory(undefined, "http://a/engine.io/");
  memory.remember("websocket");
  expect(memory.recall()).toBeUndefined();
  memory.forget();
});

test("a volatile storage answers null for what it never held, whatever the key", () => {
  const storage = volatileStorage();
  expect(storage.getItem("constructor")).toBeNull();
  storage.setItem("k", "");
  expect(storage.getItem("k")).toBe("");
});
