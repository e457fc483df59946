/**
 * Real usage of the public API, as the README shows it, checked by `tsc` (npm run typecheck)
 * under `strict`. Nothing here runs: a line that stops compiling is a broken promise to users,
 * and every `@ts-expect-error` is a mistake the types must keep catching.
 */
import { createServer } from "node:http";
import { EventSource } from "eventsource";
import { Server as SocketIoServer } from "socket.io";
import WebSocket from "ws";
import {
  BareReconnectingSocket,
  BareSocket,
  type CometaError,
  type Listener,
  type Packet,
  polling,
  ReconnectingSocket,
  Socket,
  type Trace,
  type Transport,
  type TransportContext,
  type TransportDefinition,
  TransportError,
  type TransportEvents,
  type TransportName,
  type TransportState,
  websocket,
} from "../../src/index.js";
import { attach, Server } from "../../src/server/index.js";

export function nodeClient(): Socket {
  // the packages Node users install, passed as they are exported
  const socket = new Socket("http://localhost:3000", { env: { WebSocket, EventSource } });
  // the runtime's own, where it has them (browsers; Node with --experimental-websocket)
  new Socket("http://localhost:3000", { env: { WebSocket: globalThis.WebSocket, EventSource: globalThis.EventSource } });
  socket.on("error", (error: CometaError) => console.error(error.name, error.message, error.cause));
  socket.on("upgradeError", (error) => console.warn(error.transport, error.message));
  socket.on("close", (reason, { unsent }) => console.log(reason, unsent.length));
  return socket;
}

export function transportNames(): TransportName[] {
  new Socket("http://localhost:3000", { transports: ["polling", "websocket", "sse", "xhr-streaming"] });
  new Socket("http://localhost:3000", { transports: ["jsonp", "short-polling", "iframe"] });
  // names and values mix
  new Socket("http://localhost:3000", { transports: ["polling", websocket] });
  new BareSocket("http://localhost:3000", { transports: [polling, websocket] });
  // @ts-expect-error a typo in a transport name
  new Socket("http://localhost:3000", { transports: ["websockets"] });
  // @ts-expect-error the name is "xhr-streaming"
  new ReconnectingSocket("http://localhost:3000", { transports: ["polling", "xhrStreaming"] });
  const names: TransportName[] = ["polling", "sse"];
  return names;
}

export function reconnecting(): BareReconnectingSocket {
  const socket = new ReconnectingSocket("https://chat.example.com", {
    reconnect: { initialDelay: 500, maxDelay: 10000, factor: 2, jitter: 0.5, maxAttempts: Infinity },
    buffer: { maxMessages: 1000, maxBytes: 1_000_000 },
    rememberUpgrade: true,
    env: { WebSocket },
  });
  socket.on("reconnecting", (attempt: number, delay: number) => console.log(attempt, delay));
  socket.on("close", (reason) => {
    if (reason === "reconnect failed") console.log("gave up");
  });
  // @ts-expect-error jitter is a number
  new ReconnectingSocket("https://chat.example.com", { reconnect: { jitter: "50%" } });
  return socket;
}

export function tracing(): void {
  // every decision on the way to a working connection, as the README's Tracing section shows
  const trace: Trace = (topic, message, detail) => console.debug(`[cometa ${topic}] ${message}`, detail);
  new Socket("http://localhost:3000", { trace });
  new ReconnectingSocket("http://localhost:3000", { trace: (topic) => topic === "reconnect" });
  // @ts-expect-error topics are a union
  new Socket("http://localhost:3000", { trace: (topic: "proxy") => topic });
}

/**
 * A transport written outside cometa with only what the package entry exports: an adapter
 * over a message port (say, a worker relaying to a server), passed by value.
 */
export function thirdPartyTransport(port: MessagePort): TransportDefinition {
  const create = (context: TransportContext): Transport => {
    const listeners: Record<string, Listener<never[]>[]> = {};
    const emit = <E extends keyof TransportEvents>(event: E, ...args: TransportEvents[E]) => {
      for (const listener of listeners[event] || []) (listener as Listener<unknown[]>)(...args);
    };
    let state: TransportState = "opening";
    const transport: Transport = {
      name: "port",
      get state() {
        return state;
      },
      writable: true,
      on(event, listener) {
        (listeners[event] ||= []).push(listener as Listener<never[]>);
        return () => transport.off(event, listener);
      },
      once(event, listener) {
        const off = transport.on(event, ((...args: TransportEvents[typeof event]) => {
          off();
          listener(...args);
        }) as typeof listener);
        return off;
      },
      off(event, listener) {
        if (event) listeners[event] = (listeners[event] || []).filter((entry) => entry !== listener);
      },
      open() {
        context.trace && context.trace("transport", "port open", { url: context.url("ws", "port") });
        port.onmessage = (event) => emit("packet", { type: "message", data: String(event.data) });
        port.onmessageerror = () => emit("error", new TransportError("port message error", "port"));
        state = "open";
        emit("open");
      },
      send(packets: readonly Packet[]) {
        for (const packet of packets) port.postMessage(packet);
        queueMicrotask(() => emit("drain"));
      },
      close() {
        state = "closed";
        port.close();
        emit("close");
      },
    };
    return transport;
  };
  const definition: TransportDefinition = { name: "port", supported: () => true, create };
  new BareSocket("http://localhost:3000", { transports: [definition] });
  return definition;
}

export function servers(): void {
  const http = createServer();
  const engine = attach(http, { allowedOrigins: ["https://app.example.com"], transports: ["polling", "sse"] });
  engine.on("connection", (socket) => socket.on("message", (data: string) => socket.send(data)));
  // @ts-expect-error a typo in a server transport name
  attach(http, { transports: ["server-sent-events"] });

  // under socket.io: the engine is handed to `bind` as it is
  const io = new SocketIoServer();
  const shared = new Server({ path: "/socket.io/", cors: { origin: "https://app.example.com" } });
  shared.attach(http);
  io.bind(shared);
}
