/**
 * Session affinity for a cluster: every request of a session (each poll, POST, JSONP script,
 * stream reopen, iframe GET and upgrade probe) must reach the process that holds it. With a
 * node id, cometa/server opens sessions whose sid starts with that id, so a balancer can route
 * on the `sid` query parameter alone, no cookie needed (a JSONP or iframe page on another site
 * may not send one): `nodeA.` + engine.io's own random id.
 */

/** What separates the node id from engine.io's random part of a sid. */
export const NODE_ID_SEPARATOR = ".";

/**
 * Node ids: letters, digits, `_` and `-`, at most 32. URL-safe (the sid travels in query
 * strings unescaped), never the separator, and plain enough for a haproxy or nginx match.
 */
const NODE_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** Returns `nodeId` when it can prefix a sid; throws a TypeError saying why otherwise. */
export function checkNodeId(nodeId: unknown): string {
  if (typeof nodeId !== "string" || !NODE_ID.test(nodeId)) {
    throw new TypeError(
      `cometa/server: nodeId must be 1 to 32 letters, digits, "_" or "-" (it prefixes every sid), got ${JSON.stringify(nodeId)}`,
    );
  }
  return nodeId;
}

/**
 * The sid of a session opened on `nodeId`: the prefix, then `random` (engine.io's generated
 * id: 88 random bits and a counter, URL-safe base64), so the sid is exactly as hard to guess
 * as engine.io's own; the prefix only says where the session lives.
 */
export function prefixSid(nodeId: string, random: string): string {
  return `${nodeId}${NODE_ID_SEPARATOR}${random}`;
}

/**
 * The node id a sid carries, or undefined for a sid with none (a server without `nodeId`, or
 * not a sid at all). For a balancer written in Node: route a request whose `sid` names a node
 * to that node, and balance the rest.
 */
export function nodeIdOf(sid: string | null | undefined): string | undefined {
  if (!sid) return undefined;
  const end = sid.indexOf(NODE_ID_SEPARATOR);
  if (end < 1) return undefined;
  const nodeId = sid.slice(0, end);
  return NODE_ID.test(nodeId) ? nodeId : undefined;
}
