/**
 * A process of the cluster dies: its clients are back on a live one within connectTimeout plus
 * the first backoff; a request for a sid it held gets engine.io's "Session ID unknown" from
 * another process, and the client opens a fresh session at once; socket.io's connection state
 * recovery with @socket.io/redis-streams-adapter recovers what was broadcast meanwhile when the
 * process stopped gracefully (it persisted its sessions), and cannot when it crashed.
 */
import { io as ioClient, type Socket as IoClientSocket } from "socket.io-client";
import { afterEach, describe, expect, test } from "vitest";
import type { ReconnectingSocketEvents } from "../../src/reconnect.js";
import { BareReconnectingSocket, polling, shortPolling, sse, websocket, xhrStreaming } from "../../src/index.js";
import { ServerError } from "../../src/errors.js";
import type { TransportDefinition } from "../../src/transport.js";
import { nodeEnv } from "../support/node-env.js";
import { collect, within } from "../support/events.js";
import { type BalancerKind, type Cluster, type ClusterNode, clusterAvailable, startCluster } from "./support/cluster.js";

const CONNECT_TIMEOUT = 3000;
const INITIAL_DELAY = 300;
const JITTER = 0.5;

let cluster: Cluster | undefined;
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
  await cluster?.stop();
  cluster = undefined;
});

function reconnecting(transports: TransportDefinition[]) {
  const socket = new BareReconnectingSocket(cluster!.balancer.url, {
    env: nodeEnv(),
    transports,
    pollInterval: 50,
    connectTimeout: CONNECT_TIMEOUT,
    reconnect: { initialDelay: INITIAL_DELAY, jitter: JITTER },
  });
  cleanup.push(() => socket.close());
  return socket;
}

const nodeOf = (socket: BareReconnectingSocket) => cluster!.nodeOf(socket.socket?.id);

/** Opens clients until one has its session on every node; returns them by node. */
async function oneOnEachNode(transports: TransportDefinition[]): Promise<Map<string, BareReconnectingSocket>> {
  const sockets = Array.from({ length: 3 }, () => reconnecting(transports));
  await within(Promise.all(sockets.map((socket) => next(socket, "open"))), 10_000, "a client did not open");
  const byNode = new Map(sockets.map((socket) => [nodeOf(socket)!.id, socket]));
  expect([...byNode.keys()].sort()).toEqual(["a", "b", "c"]);
  return byNode;
}

describe.runIf(clusterAvailable()).each(["haproxy", "nginx"] as BalancerKind[])("behind %s", (kind) => {
  test("a request for a sid whose process is gone gets Session ID unknown from another, and the client opens a fresh session at once", async () => {
    cluster = await startCluster(kind, "engine");
    // short polling, a poll a second: the process dies just after a poll was answered, so no
    // request is in flight and the next one is the first to find it gone
    const clients = Array.from({ length: 3 }, () => {
      const client: { socket?: BareReconnectingSocket; answered?: () => void } = {};
      // this client's fetch, telling when one of its polls has been answered
      const fetchThenTell: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        const body = await response.arrayBuffer();
        if (init?.method !== "POST") Promise.resolve().then(() => client.answered?.());
        return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
      };
      const socket = (client.socket = new BareReconnectingSocket(cluster!.balancer.url, {
        env: nodeEnv({ fetch: fetchThenTell }),
        transports: [shortPolling],
        pollInterval: 1000,
        connectTimeout: CONNECT_TIMEOUT,
        reconnect: { initialDelay: INITIAL_DELAY, jitter: JITTER },
      }));
      cleanup.push(() => socket.close());
      return client;
    });
    await within(Promise.all(clients.map(({ socket }) => next(socket!, "open"))), 10_000, "a client did not open");
    const client = clients.find(({ socket }) => nodeOf(socket!)?.id === "a")!;
    expect(client).toBeDefined();
    const socket = client.socket!;
    const deadSid = socket.socket!.id!;
    const lost = next(socket, "disconnect");
    const retry = next(socket, "reconnecting");
    await new Promise<void>((resolve) => (client.answered = resolve));
    client.answered = undefined;
    await cluster.nodes[0]!.child.kill();

    const [, details] = await within(lost, 5000, "the session was not lost");
    expect(details.error).toBeInstanceOf(ServerError);
    expect((details.error as ServerError).code).toBe(1);
    // no backoff: the delay before the new session is 0
    expect(await retry).toEqual([1, 0]);
    await within(next(socket, "open"), 5000, "no fresh session");
    expect(["b", "c"]).toContain(nodeOf(socket)!.id);
    expect(socket.socket!.id).not.toBe(deadSid);

    // what the balancer answers any request for that sid now: another process's 400, code 1
    for (const method of ["GET", "POST"]) {
      const response = await fetch(`${cluster.balancer.url}/engine.io/?EIO=4&transport=polling&sid=${encodeURIComponent(deadSid)}`, {
        method,
        ...(method === "POST" ? { body: "4hello" } : {}),
      });
      expect(response.status, method).toBe(400);
      expect(await response.json(), method).toEqual({ code: 1, message: "Session ID unknown" });
    }
  });

  test("a process killed mid-stream: its clients, on every transport, are back on a live process within connectTimeout plus the first backoff", async () => {
    cluster = await startCluster(kind, "engine");
    const sets: TransportDefinition[][] = [[polling], [websocket], [sse], [xhrStreaming], [shortPolling], [polling, websocket]];
    const onA: BareReconnectingSocket[] = [];
    for (const transports of sets) onA.push((await oneOnEachNode(transports)).get("a")!);
    const received = onA.map((socket) => collect<unknown>(socket));
    // mid-stream: a broadcast from b reaches a's clients, then a dies and b broadcasts on
    await cluster.nodes[1]!.broadcast("before");
    await within(Promise.all(received.map((each) => each.until(1))), 5000, "the first broadcast did not arrive");

    const reopened = onA.map((socket) => next(socket, "reconnect").then(() => Date.now()));
    const killed = Date.now();
    await cluster.nodes[0]!.child.kill();
    const bound = CONNECT_TIMEOUT + INITIAL_DELAY * (1 + JITTER);
    const times = await within(Promise.all(reopened), bound + 2000, "a client did not come back");
    for (const [i, at] of times.entries()) {
      expect(at - killed, sets[i]!.map((each) => each.name).join(",")).toBeLessThanOrEqual(bound);
      expect(["b", "c"]).toContain(nodeOf(onA[i]!)!.id);
    }
    await cluster.nodes[2]!.broadcast("after");
    await within(Promise.all(received.map((each) => each.until(2))), 5000, "a broadcast after the failover did not arrive");
    for (const each of received) expect(each.received).toEqual(["before", "after"]);
  });
});

describe.runIf(clusterAvailable())("socket.io with @socket.io/redis-streams-adapter and connection state recovery, behind haproxy", () => {
  interface Client {
    socket: IoClientSocket;
    node: string;
    /** [node, recovered] of each connection */
    connections: [string, boolean][];
    received: string[];
  }

  async function clients(transports: string[][]): Promise<Client[]> {
    const all: Client[] = [];
    for (const set of transports) {
      const opened = Array.from({ length: 3 }, () => {
        const socket = ioClient(cluster!.balancer.url, {
          forceNew: true,
          transports: set,
          timeout: CONNECT_TIMEOUT,
          reconnectionDelay: 300,
          randomizationFactor: 0,
        });
        cleanup.push(() => socket.close());
        const client: Client = { socket, node: "", connections: [], received: [] };
        socket.on("node", (node: string, recovered: boolean) => {
          client.node = node;
          client.connections.push([node, recovered]);
        });
        socket.on("m", (text: string) => client.received.push(text));
        return client;
      });
      await within(until(() => opened.every((client) => client.connections.length === 1)), 10_000, `${set} did not connect`);
      expect(opened.map((client) => client.node).sort()).toEqual(["a", "b", "c"]);
      all.push(...opened);
    }
    return all;
  }

  const transports = [["polling"], ["websocket"], ["xhr-streaming"]];

  async function afterLosing(stop: (node: ClusterNode) => Promise<void>, recovered: boolean) {
    cluster = await startCluster("haproxy", "io-streams");
    const all = await clients(transports);
    // a first broadcast gives every client an offset in the stream to resume from
    await cluster.nodes[1]!.broadcast("m0");
    await within(until(() => all.every((client) => client.received.length === 1)), 5000, "m0 did not arrive");
    const onA = all.filter((client) => client.node === "a");
    await stop(cluster.nodes[0]!);
    // broadcast while a's clients are between sessions (they retry 300 ms after the loss)
    await cluster.nodes[1]!.broadcast("m1");
    const others = all.filter((client) => client.node !== "a");
    await within(
      until(
        () =>
          others.every((client) => client.received.length === 2) &&
          onA.every((client) => client.connections.length === 2 && client.received.length === (recovered ? 2 : 1)),
      ),
      CONNECT_TIMEOUT + 2000,
      "the clients of the stopped process did not come back",
    );
    return { all, onA };
  }

  test("a process stopped gracefully: its clients resume on another with what was broadcast meanwhile, once", async () => {
    const { all, onA } = await afterLosing((node) => node.child.stop(), true);
    for (const client of onA) {
      expect(client.connections[1]![0]).not.toBe("a");
      // the session was restored: same socket.io id, rooms and data, and the missed packets
      expect(client.connections[1]![1]).toBe(true);
      expect(client.socket.recovered).toBe(true);
    }
    for (const client of all) expect(client.received).toEqual(["m0", "m1"]);
  });

  test("a process that crashes persisted nothing: its clients come back on another, unrecovered, and m1 is lost to them", async () => {
    const { all, onA } = await afterLosing((node) => node.child.kill(), false);
    for (const client of onA) {
      expect(client.connections[1]![0]).not.toBe("a");
      expect(client.connections[1]![1]).toBe(false);
      expect(client.socket.recovered).toBe(false);
    }
    for (const client of all) expect(client.received).toEqual(onA.includes(client) ? ["m0"] : ["m0", "m1"]);
  });
});

/** The arguments of the next `event` of a ReconnectingSocket. */
function next<E extends keyof ReconnectingSocketEvents>(socket: BareReconnectingSocket, event: E): Promise<ReconnectingSocketEvents[E]> {
  return new Promise((resolve) => socket.once(event, (...args) => resolve(args)));
}

/** Polls `check` every 10 ms (real time: the processes are elsewhere) until it holds. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 10));
}
