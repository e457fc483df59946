/**
 * cometa's Node clients for the cluster tests: forced onto one transport (or starting on
 * polling and upgrading), optionally with a cookie jar of their own, as a browser has, so a
 * balancer's affinity cookie comes back on every request of every transport.
 */
import { EventSource } from "eventsource";
import WebSocket from "ws";
import { BaseSocket, polling, shortPolling, sse, websocket, xhrStreaming } from "../../../src/index.js";
import type { Environment } from "../../../src/env.js";
import type { TransportDefinition } from "../../../src/transport.js";
import { nodeEnv } from "../../support/node-env.js";

/** The transports a Node client can be forced onto, and upgrades from polling to each streaming one. */
export const nodeTransportSets: { name: string; transports: TransportDefinition[]; final: string }[] = [
  { name: "polling", transports: [polling], final: "polling" },
  { name: "websocket", transports: [websocket], final: "websocket" },
  { name: "sse", transports: [sse], final: "sse" },
  { name: "xhr-streaming", transports: [xhrStreaming], final: "xhr-streaming" },
  { name: "short-polling", transports: [shortPolling], final: "short-polling" },
  { name: "polling then websocket", transports: [polling, websocket], final: "websocket" },
  { name: "polling then sse", transports: [polling, sse], final: "sse" },
  { name: "polling then xhr-streaming", transports: [polling, xhrStreaming], final: "xhr-streaming" },
];

/** fetch, WebSocket and EventSource sharing one cookie jar (name=value, no attributes honoured). */
export function cookieJarEnv(): { env: Partial<Environment>; cookies: Map<string, string> } {
  const cookies = new Map<string, string>();
  const header = () => [...cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  const remember = (lines: string[]) => {
    for (const line of lines) {
      const [pair = ""] = line.split(";");
      const at = pair.indexOf("=");
      if (at > 0) cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
  };
  const jarFetch: typeof fetch = async (input, init = {}) => {
    const headers = new Headers(init.headers);
    if (cookies.size > 0) headers.set("cookie", header());
    const response = await fetch(input, { ...init, headers });
    remember(response.headers.getSetCookie());
    return response;
  };
  class JarWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[], options: WebSocket.ClientOptions = {}) {
      super(url, protocols, { ...options, headers: { ...options.headers, ...(cookies.size > 0 ? { cookie: header() } : {}) } });
      this.on("upgrade", (response) => {
        const set = response.headers["set-cookie"];
        if (set) remember(set);
      });
    }
  }
  class JarEventSource extends EventSource {
    constructor(url: string | URL, init?: { withCredentials?: boolean }) {
      super(url, { ...init, fetch: jarFetch });
    }
  }
  return { env: nodeEnv({ fetch: jarFetch, WebSocket: JarWebSocket, EventSource: JarEventSource }), cookies };
}

export function connect(url: string, transports: TransportDefinition[], options: { env?: Partial<Environment>; path?: string } = {}): BaseSocket {
  return new BaseSocket(url, {
    env: options.env ?? nodeEnv(),
    transports,
    pollInterval: 20,
    ...(options.path ? { path: options.path } : {}),
  });
}
