// The load balancer configurations for a cometa/server cluster, as text: haproxy and nginx.
// The demo (examples/cluster) and the cluster tests (test/cluster) run exactly these; the
// README's "Scaling out" shows them for three nodes.
//
// Both route every request of a session to the process that opened it: the handshake is
// balanced, then each request carries `sid=<nodeId>.<random>` (cometa/server's `nodeId` option),
// and the balancer reads the node from it. haproxy also inserts a cookie naming the node, for
// apps whose sids carry no node id; either way suffices.
//
// nodes: [{ id: "a", host: "127.0.0.1", port: 3001 }, ...]

const NODE_ID = /^[A-Za-z0-9_-]{1,32}$/;

function checkNodes(nodes) {
  if (!Array.isArray(nodes) || nodes.length === 0) throw new TypeError("at least one node is needed");
  for (const node of nodes) {
    if (!NODE_ID.test(node.id)) throw new TypeError(`node id ${JSON.stringify(node.id)}: 1 to 32 letters, digits, "_" or "-"`);
    if (!Number.isInteger(node.port)) throw new TypeError(`node ${node.id}: port must be an integer`);
  }
}

const address = (node) => `${node.host ?? "127.0.0.1"}:${node.port}`;

/**
 * haproxy 2.x. `affinity`: "both" (default), "sid" (the sid prefix only) or "cookie" (the
 * cookie only). `secureCookie`: the cookie gets `Secure; SameSite=None`, which a page on another
 * site needs for the browser to send it back (over HTTPS only; browsers drop a `Secure` cookie
 * set over plain HTTP except on localhost). `maxconn`: connections at once (default 4096).
 */
export function haproxyConfig({ bind, nodes, affinity = "both", secureCookie = false, maxconn = 4096 }) {
  checkNodes(nodes);
  const cookie = affinity !== "sid";
  const sid = affinity !== "cookie";
  const lines = [
    "global",
    // haproxy needs two file descriptors a connection, and fails to start past its limit
    `  maxconn ${maxconn}`,
    "",
    "defaults",
    "  mode http",
    "  timeout connect 2s",
    // a held poll lasts up to pingInterval (25 s by default): more than that on both sides
    "  timeout client 75s",
    "  timeout server 75s",
    // WebSocket once upgraded; sse, xhr-streaming and iframe are plain responses under the two above
    "  timeout tunnel 1h",
    "  timeout http-keep-alive 10s",
    // a node that refuses connections: the last retry goes to another node, whose answer to a
    // sid it does not hold is engine.io's "Session ID unknown", so the client opens a new session
    "  retries 2",
    "  option redispatch",
    // sse, xhr-streaming and iframe are responses written a message at a time: send each at
    // once, not held back (up to 200 ms) waiting to fill a packet
    "  option http-no-delay",
    "",
    "frontend cometa",
    `  bind ${bind}`,
    "  default_backend cometa",
    "",
    "backend cometa",
    "  balance roundrobin",
  ];
  if (cookie) {
    lines.push(
      "  # affinity by cookie: set on the handshake's response, read on every later request",
      `  cookie SERVERID insert indirect nocache httponly${secureCookie ? ' secure attr "SameSite=None"' : ""}`,
    );
  }
  if (sid) {
    lines.push("  # affinity by the node id the sid starts with (cometa/server's nodeId): no cookie needed");
    for (const node of nodes) lines.push(`  use-server ${node.id} if { urlp(sid) -m beg ${node.id}. }`);
  }
  for (const node of nodes) {
    lines.push(`  server ${node.id} ${address(node)}${cookie ? ` cookie ${node.id}` : ""} check inter 500ms fall 1 rise 1`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * The `http { ... }` part of an nginx configuration (nginx has no cookie insertion outside its
 * commercial edition, so it routes on the sid only). Each node has an upstream of its own with
 * the others as backups: a request for a node that is gone reaches another one, whose answer
 * is engine.io's "Session ID unknown", rather than a 502. POSTs are passed on too
 * (`non_idempotent`): one that never reached a node cannot have been handled twice.
 */
export function nginxHttpBlock({ listen, nodes, extra = "" }) {
  checkNodes(nodes);
  const upstream = (name, servers) => `  upstream ${name} {\n${servers.map((line) => `    server ${line};`).join("\n")}\n  }`;
  return `
  map $http_upgrade $connection_upgrade { default upgrade; "" close; }
  # the node a request's sid names: "<nodeId>.<random>"; none (a handshake) balances
  map $arg_sid $cometa_upstream {
    default cometa_any;
${nodes.map((node) => `    ~^${node.id.replace(/-/g, "\\-")}\\. cometa_node_${node.id.replace(/-/g, "_")};`).join("\n")}
  }
${upstream("cometa_any", nodes.map(address))}
${nodes
  .map((node) =>
    upstream(`cometa_node_${node.id.replace(/-/g, "_")}`, [
      `${address(node)}`,
      ...nodes.filter((other) => other !== node).map((other) => `${address(other)} backup`),
    ]),
  )
  .join("\n")}
  server {
    listen ${listen};
    location / {
      proxy_pass http://$cometa_upstream;
      proxy_next_upstream error timeout non_idempotent;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_buffering off;
      proxy_read_timeout 75s;${extra}
    }
  }
`;
}

/** The shipped files (haproxy.cfg, nginx.conf): three nodes on hosts node-a, node-b, node-c. */
export const shipped = {
  nodes: ["a", "b", "c"].map((id) => ({ id, host: `node-${id}`, port: 3000 })),
  haproxy() {
    return `# haproxy in front of three cometa/server processes started with nodeId "a", "b" and "c".
# Generated by \`node examples/cluster/balancers.mjs\` from balancers.mjs, which the tests run.
${haproxyConfig({ bind: ":80", nodes: this.nodes })}`;
  },
  nginx() {
    return `# nginx in front of three cometa/server processes started with nodeId "a", "b" and "c".
# Generated by \`node examples/cluster/balancers.mjs\` from balancers.mjs, which the tests run.
events { worker_connections 4096; }
http {${nginxHttpBlock({ listen: "80", nodes: this.nodes })}}
`;
  },
};

// `node examples/cluster/balancers.mjs` writes haproxy.cfg and nginx.conf next to this file
if (process.argv[1] && import.meta.url === (await import("node:url")).pathToFileURL(process.argv[1]).href) {
  const { writeFileSync } = await import("node:fs");
  writeFileSync(new URL("./haproxy.cfg", import.meta.url), shipped.haproxy());
  writeFileSync(new URL("./nginx.conf", import.meta.url), shipped.nginx());
}
