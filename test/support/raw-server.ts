/** A plain HTTP server on an ephemeral loopback port, answering with whatever a test scripts. */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RawServer {
  url: string;
  requests: { method: string; url: string; body: string }[];
  close(): Promise<void>;
}

export type RawHandler = (request: IncomingMessage & { body: string }, response: ServerResponse, index: number) => void;

export async function startRawServer(handler: RawHandler): Promise<RawServer> {
  const requests: RawServer["requests"] = [];
  const server = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => {
      requests.push({ method: request.method ?? "", url: request.url ?? "", body });
      handler(Object.assign(request, { body }), response, requests.length - 1);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const openPacket = (fields: Record<string, unknown> = {}) =>
  "0" + JSON.stringify({ sid: "abc", upgrades: [], pingInterval: 25000, pingTimeout: 20000, maxPayload: 1e6, ...fields });
