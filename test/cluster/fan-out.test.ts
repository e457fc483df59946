/**
 * Fan-out across processes behind haproxy and behind nginx: a broadcast from any of three
 * processes reaches the clients of all three, on every transport a Node client has. A plain
 * engine.io app through Redis pub/sub (examples/cluster/fan-out.mjs), and socket.io 4.8 bound
 * to cometa/server with @socket.io/redis-adapter, on a real redis-server. The Node clients keep
 * no cookie, so haproxy (configured with both) and nginx route them on the sid alone.
 */
import { io as ioClient, type Socket as IoClientSocket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { BaseSocket } from "../../src/index.js";
import { closeSocket, collect, failOnClose, within } from "../support/events.js";
import { type BalancerKind, type Cluster, clusterAvailable, startCluster } from "./support/cluster.js";
import { connect, nodeTransportSets } from "./support/clients.js";
import { settledOnItsNode } from "./support/sessions.js";

const balancers: BalancerKind[] = ["haproxy", "nginx"];

describe.runIf(clusterAvailable()).each(balancers)("behind %s", (kind) => {
  describe("a plain engine.io app, fanning out through Redis pub/sub", () => {
    let cluster: Cluster;
    beforeAll(async () => void (cluster = await startCluster(kind, "engine")));
    afterAll(() => cluster?.stop());

    test("a broadcast from each process reaches every client of every process, on every transport", async () => {
      const sockets: { socket: BaseSocket; name: string }[] = [];
      try {
        for (const { name, transports, final } of nodeTransportSets) {
          // three handshakes at once, balanced round-robin: one client of each set on each node
          const opened = Array.from({ length: 3 }, () => connect(cluster.balancer.url, transports));
          sockets.push(...opened.map((socket) => ({ socket, name })));
          const nodes = await Promise.all(opened.map((socket) => settledOnItsNode(socket, cluster, final)));
          expect(nodes.map((node) => node.id).sort(), name).toEqual(["a", "b", "c"]);
        }
        const received = sockets.map(({ socket }) => collect<unknown>(socket));
        const failures = sockets.map(({ socket }) => failOnClose(socket));
        for (const node of cluster.nodes) await node.broadcast(`from ${node.id}`);
        await within(
          Promise.race([Promise.all(received.map((each) => each.until(3))), ...failures.map((failure) => failure.promise)]),
          10_000,
          "a broadcast did not reach every client",
        );
        for (const [i, { name }] of sockets.entries()) {
          // each node publishes in turn, and Redis delivers a channel's messages in order
          expect(received[i]!.received, name).toEqual(["from a", "from b", "from c"]);
        }
        failures.forEach((failure) => failure.stop());
      } finally {
        await Promise.all(sockets.map(({ socket }) => closeSocket(socket)));
      }
    });
  });

  describe("socket.io 4.8 bound to cometa/server, with @socket.io/redis-adapter", () => {
    let cluster: Cluster;
    beforeAll(async () => void (cluster = await startCluster(kind, "io")));
    afterAll(() => cluster?.stop());

    // what socket.io-client on cometa's Node entry has (no EventSource there, so no sse)
    const ioTransports = [["polling"], ["websocket"], ["xhr-streaming"], ["short-polling"], ["polling", "websocket"], ["polling", "xhr-streaming"]];

    test("io.emit from each process reaches socket.io clients (on cometa) of every process, on every transport", async () => {
      const clients: { socket: IoClientSocket; transports: string[]; node: Promise<string>; received: string[] }[] = [];
      try {
        for (const transports of ioTransports) {
          const opened = Array.from({ length: 3 }, () => {
            const socket = ioClient(cluster.balancer.url, { forceNew: true, reconnection: false, transports, timeout: 10_000 });
            const node = new Promise<string>((resolve, reject) => {
              socket.once("node", resolve);
              socket.once("connect_error", reject);
            });
            const entry = { socket, transports, node, received: [] as string[] };
            socket.on("m", (text: string) => entry.received.push(text));
            return entry;
          });
          clients.push(...opened);
          const nodes = await within(Promise.all(opened.map((entry) => entry.node)), 10_000, `${transports} did not connect`);
          expect(nodes.sort(), transports.join(",")).toEqual(["a", "b", "c"]);
        }
        const upgraded = (entry: (typeof clients)[number]) => entry.socket.io.engine.transport.name === entry.transports.at(-1);
        await within(
          Promise.all(
            clients.map(
              (entry) => new Promise<void>((resolve) => (upgraded(entry) ? resolve() : entry.socket.io.engine.once("upgrade", () => resolve()))),
            ),
          ),
          10_000,
          "an upgrade did not complete",
        );
        for (const node of cluster.nodes) await node.broadcast(`from ${node.id}`);
        await within(
          (async () => {
            while (clients.some((entry) => entry.received.length < 3)) await new Promise((resolve) => setTimeout(resolve, 20));
          })(),
          10_000,
          "an io.emit did not reach every client",
        );
        for (const entry of clients) {
          // each exactly once; in no set order: the emitting process delivers to its own clients
          // first, to the others' through Redis
          expect([...entry.received].sort(), entry.transports.join(",")).toEqual(["from a", "from b", "from c"]);
          expect(entry.socket.connected).toBe(true);
        }
      } finally {
        for (const { socket } of clients) socket.close();
      }
    });
  });
});
