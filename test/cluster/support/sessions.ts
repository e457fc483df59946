/** What every cluster test checks of a Node client: opened, upgraded, answered by its own node. */
import { expect } from "vitest";
import type { BaseSocket } from "../../../src/index.js";
import { failOnClose, messages, next, within } from "../../support/events.js";
import type { Cluster, ClusterNode } from "./cluster.js";

/**
 * Waits for `socket` to be open on `final` (upgrading to it when it started elsewhere), then
 * checks that a message it sends is answered by the node its sid names, and that this node
 * holds the session on `final`. Returns that node.
 */
export async function settledOnItsNode(socket: BaseSocket, cluster: Cluster, final: string): Promise<ClusterNode> {
  const failure = failOnClose(socket);
  try {
    if (socket.state !== "open") await within(Promise.race([next(socket, "open"), failure.promise]), 10_000, "no open");
    if (socket.transport.name !== final) {
      await within(Promise.race([next(socket, "upgrade"), failure.promise]), 10_000, `no upgrade to ${final}`);
    }
    expect(socket.transport.name).toBe(final);
    const node = cluster.nodeOf(socket.id);
    expect(node, `the sid ${socket.id} names a node`).toBeDefined();
    const answer = messages(socket, 1);
    socket.send("hi");
    expect(await within(Promise.race([answer, failure.promise]), 10_000, "no echo")).toEqual([`echo ${node!.id} hi`]);
    expect(await node!.sessions()).toContainEqual({ id: socket.id, transport: final });
    return node!;
  } finally {
    failure.stop();
  }
}
