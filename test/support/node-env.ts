/** The environment a Node user passes: `ws` for WebSocket, an EventSource, an in-memory storage. */
import { EventSource } from "eventsource";
import WebSocket from "ws";
import type { Environment } from "../../src/env.js";

export function nodeEnv(overrides: Partial<Environment> = {}): Partial<Environment> {
  const items = new Map<string, string>();
  return {
    // as the packages export them: the environment's types accept both without a cast
    WebSocket,
    EventSource,
    storage: { getItem: (key) => items.get(key) ?? null, setItem: (key, value) => void items.set(key, value) },
    ...overrides,
  };
}
