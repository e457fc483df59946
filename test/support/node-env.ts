/** The environment a Node user passes: `ws` for WebSocket, an EventSource, an in-memory storage. */
import { EventSource } from "eventsource";
import WebSocket from "ws";
import type { Environment, EventSourceConstructor, WebSocketConstructor } from "../../src/env.js";

export function nodeEnv(overrides: Partial<Environment> = {}): Partial<Environment> {
  const items = new Map<string, string>();
  return {
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    EventSource: EventSource as unknown as EventSourceConstructor,
    storage: { getItem: (key) => items.get(key) ?? null, setItem: (key, value) => void items.set(key, value) },
    ...overrides,
  };
}
