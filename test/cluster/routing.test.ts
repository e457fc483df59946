/**
 * Routing every request of a session to the process that holds it: sids that name their node
 * (cometa/server's `nodeId`), and haproxy routing by its cookie alone, on every transport a
 * Node client has (the browser-only ones: browser.test.ts). Routing by the sid: fan-out.test.ts,
 * whose Node clients send no cookie, so haproxy and nginx route them on the sid only.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { nodeIdOf, Server } from "../../src/server/index.js";
import type { BaseSocket } from "../../src/index.js";
import { closed, closeSocket, within } from "../support/events.js";
import { startServer } from "../support/server.js";
import { type Cluster, clusterAvailable, startCluster } from "./support/cluster.js";
import { connect, cookieJarEnv, nodeTransportSets } from "./support/clients.js";
import { settledOnItsNode } from "./support/sessions.js";
import { polling } from "../../src/index.js";
import { ServerError } from "../../src/errors.js";

async function handshakeSid(url: string): Promise<string> {
  const body = await (await fetch(`${url}/engine.io/?EIO=4&transport=polling`)).text();
  return (JSON.parse(body.slice(1)) as { sid: string }).sid;
}

describe("sids naming their node", () => {
  test("a server with a nodeId opens sessions whose sid is the node id, a dot and engine.io's random id", async () => {
    const server = await startServer({ nodeId: "node-2_b" });
    const sids = await Promise.all(Array.from({ length: 20 }, () => handshakeSid(server.url)));
    for (const sid of sids) {
      // engine.io's base64id: 15 random bytes as URL-safe base64, 20 characters
      expect(sid).toMatch(/^node-2_b\.[A-Za-z0-9_-]{20}$/);
      expect(encodeURIComponent(sid)).toBe(sid);
      expect(nodeIdOf(sid)).toBe("node-2_b");
    }
    expect(new Set(sids).size).toBe(sids.length);
    // the prefixed sid is the session's id: a poll with it finds the session
    const poll = await fetch(`${server.url}/engine.io/?EIO=4&transport=polling&sid=${sids[0]}`, { method: "POST", body: "6" });
    expect(await poll.text()).toBe("ok");
  });

  test("without a nodeId the sids are engine.io's, with no node in them", async () => {
    const server = await startServer();
    const sid = await handshakeSid(server.url);
    expect(sid).toMatch(/^[A-Za-z0-9_-]{20}$/);
    expect(nodeIdOf(sid)).toBeUndefined();
  });

  test("a node id that could not prefix a sid is refused when the server is made", async () => {
    for (const nodeId of ["", "a.b", "a b", "é", "a/b", "x".repeat(33), 7]) {
      expect(() => new Server({ nodeId: nodeId as string }), JSON.stringify(nodeId)).toThrow(/nodeId must be 1 to 32 letters/);
    }
  });

  test("nodeIdOf reads the prefix, and nothing from what is not a prefixed sid", () => {
    expect(nodeIdOf("a.xyz")).toBe("a");
    expect(nodeIdOf("a.b.c")).toBe("a");
    for (const sid of [undefined, null, "", ".abc", "abc", "a b.c", "x".repeat(33) + ".c"]) expect(nodeIdOf(sid)).toBeUndefined();
  });
});

describe.runIf(clusterAvailable())("haproxy in front of three processes", () => {
  const sockets: BaseSocket[] = [];
  const closeAll = () => Promise.all(sockets.splice(0).map(closeSocket));

  describe("routing on haproxy's cookie alone (sids carry a node id, haproxy ignores it)", () => {
    let cluster: Cluster;
    beforeAll(async () => void (cluster = await startCluster("haproxy", "engine", { affinity: "cookie" })));
    afterAll(() => cluster?.stop());

    test.each(nodeTransportSets)("$name: a client that keeps cookies stays on its node", async ({ transports, final }) => {
      try {
        const jars = Array.from({ length: 3 }, () => cookieJarEnv());
        const opened = jars.map(({ env }) => connect(cluster.balancer.url, transports, { env }));
        sockets.push(...opened);
        const nodes = await Promise.all(opened.map((socket) => settledOnItsNode(socket, cluster, final)));
        expect(nodes.map((node) => node.id).sort()).toEqual(["a", "b", "c"]);
        // the cookie haproxy set names the node the sid names
        expect(jars.map(({ cookies }) => cookies.get("SERVERID"))).toEqual(nodes.map((node) => node.id));
      } finally {
        await closeAll();
      }
    });

    test("a client that drops the cookie is balanced away from its session: Session ID unknown", async () => {
      const socket = connect(cluster.balancer.url, [polling]);
      sockets.push(socket);
      try {
        const { details } = await within(closed(socket), 10_000, "the session survived without its cookie");
        expect(details.error).toBeInstanceOf(ServerError);
        expect((details.error as ServerError).code).toBe(1);
      } finally {
        await closeAll();
      }
    });
  });
});

describe.runIf(clusterAvailable())("haproxy's cookie for pages on another site", () => {
  test("with secureCookie the affinity cookie is Secure, HttpOnly and SameSite=None, set on the handshake only", async () => {
    const cluster = await startCluster("haproxy", "engine", { affinity: "cookie", secureCookie: true });
    try {
      const handshake = await fetch(`${cluster.balancer.url}/engine.io/?EIO=4&transport=polling`);
      const sid = (JSON.parse((await handshake.text()).slice(1)) as { sid: string }).sid;
      const [cookie] = handshake.headers.getSetCookie();
      const node = cluster.nodeOf(sid)!.id;
      expect(cookie).toMatch(new RegExp(`^SERVERID=${node};`));
      expect(cookie!.split(/;\s*/).slice(1).map((part) => part.toLowerCase()).sort()).toEqual(["httponly", "path=/", "samesite=none", "secure"]);
      // a request that sends it back reaches that node and sets nothing
      const poll = await fetch(`${cluster.balancer.url}/engine.io/?EIO=4&transport=polling&sid=${sid}`, {
        method: "POST",
        body: "6",
        headers: { cookie: `SERVERID=${node}` },
      });
      expect(await poll.text()).toBe("ok");
      expect(poll.headers.getSetCookie()).toEqual([]);
    } finally {
      await cluster.stop();
    }
  });
});
