/**
 * A cluster as the README describes it, started by a test on loopback ports: redis-server,
 * cometa/server processes (test/cluster/support/node.mjs, named a, b, c...) and haproxy or
 * nginx in front, configured by examples/cluster/balancers.mjs. `stop()` ends all of it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { haproxyConfig, nginxHttpBlock } from "../../../examples/cluster/balancers.mjs";
import { findNginx, waitForPort } from "../../network/support/nginx.js";
import { type Child, binariesAvailable, findBinary, freePort, start } from "./processes.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));

export const binaries = {
  "redis-server": findBinary([process.env.REDIS_SERVER, "/usr/bin/redis-server", "/usr/local/bin/redis-server"]),
  haproxy: findBinary([process.env.HAPROXY, "/usr/sbin/haproxy", "/usr/local/sbin/haproxy"]),
  nginx: findNginx(),
};

/** Whether redis-server, haproxy and nginx are all here (fails under CI when one is not). */
export const clusterAvailable = () => binariesAvailable(binaries);

let bundled: Promise<string> | undefined;
/** cometa/server from src/, bundled for the node processes (Node runs no TypeScript). */
export function cometaServerModule(): Promise<string> {
  const outfile = join(root, "node_modules/.cache/cometa-cluster/server.mjs");
  return (bundled ??= build({
    entryPoints: [join(root, "src/server/index.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    outfile,
    logLevel: "error",
  }).then(() => outfile));
}

export interface Redis {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<Redis> {
  const dir = mkdtempSync(join(tmpdir(), "cometa-redis-"));
  const port = await freePort();
  const child = start(binaries["redis-server"]!, [
    "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--protected-mode", "no",
  ]);
  await child.line(/Ready to accept connections/);
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type Mode = "engine" | "io" | "io-streams";

export interface ClusterNode {
  readonly id: string;
  readonly port: number;
  readonly url: string;
  readonly child: Child;
  /** Broadcasts `text` from this node to every session of every node. */
  broadcast(text: string): Promise<void>;
  /** The sessions this node holds. */
  sessions(): Promise<{ id: string; transport: string }[]>;
}

export interface NodeSettings {
  pingInterval?: number;
  pingTimeout?: number;
}

export async function startNode(id: string, mode: Mode, redis: Redis, settings: NodeSettings = {}): Promise<ClusterNode> {
  const child = start(process.execPath, [join(root, "test/cluster/support/node.mjs")], {
    COMETA_SERVER: await cometaServerModule(),
    NODE_ID: id,
    REDIS_URL: redis.url,
    MODE: mode,
    PING_INTERVAL: settings.pingInterval?.toString(),
    PING_TIMEOUT: settings.pingTimeout?.toString(),
  });
  const { port } = JSON.parse(await child.line(/^\{"port":\d+\}$/)) as { port: number };
  const url = `http://127.0.0.1:${port}`;
  return {
    id,
    port,
    url,
    child,
    broadcast: async (text) => {
      const response = await fetch(`${url}/control/broadcast?text=${encodeURIComponent(text)}`, { method: "POST" });
      if (!response.ok) throw new Error(`node ${id} could not broadcast: ${response.status} ${await response.text()}`);
    },
    sessions: async () => ((await (await fetch(`${url}/control/sessions`)).json()) as { sessions: { id: string; transport: string }[] }).sessions,
  };
}

export interface Balancer {
  readonly url: string;
  /** The configuration it runs. */
  readonly config: string;
  stop(): Promise<void>;
}

export type BalancerKind = "haproxy" | "nginx";

export async function startBalancer(
  kind: BalancerKind,
  nodes: readonly { id: string; port: number }[],
  options: { affinity?: "both" | "sid" | "cookie"; secureCookie?: boolean } = {},
): Promise<Balancer> {
  const dir = mkdtempSync(join(tmpdir(), `cometa-${kind}-`));
  const port = await freePort();
  const bind = `127.0.0.1:${port}`;
  let config: string;
  let child: Child;
  if (kind === "haproxy") {
    config = haproxyConfig({ bind, nodes, affinity: options.affinity, secureCookie: options.secureCookie });
    writeFileSync(join(dir, "haproxy.cfg"), config);
    child = start(binaries.haproxy!, ["-db", "-f", join(dir, "haproxy.cfg")]);
  } else {
    for (const sub of ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(dir, sub));
    config = `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
worker_shutdown_timeout 1s;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${nginxHttpBlock({ listen: bind, nodes })}
}
`;
    writeFileSync(join(dir, "nginx.conf"), config);
    child = start(binaries.nginx!, ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")]);
  }
  try {
    await waitForPort(port, 5000, () => child.alive);
  } catch (error) {
    await child.kill();
    throw new Error(`${kind} did not start: ${(error as Error).message}\n${child.output()}`);
  }
  return {
    url: `http://${bind}`,
    config,
    stop: async () => {
      await child.stop(kind === "nginx" ? "SIGQUIT" : "SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Cluster {
  readonly redis: Redis;
  readonly nodes: ClusterNode[];
  readonly balancer: Balancer;
  /** The node a sid was opened on (the prefix cometa/server's nodeId gave it). */
  nodeOf(sid: string | undefined): ClusterNode | undefined;
  stop(): Promise<void>;
}

export async function startCluster(
  kind: BalancerKind,
  mode: Mode,
  options: { ids?: string[]; affinity?: "both" | "sid" | "cookie"; secureCookie?: boolean } & NodeSettings = {},
): Promise<Cluster> {
  const { ids = ["a", "b", "c"], affinity, secureCookie, ...settings } = options;
  const redis = await startRedis();
  const started: ClusterNode[] = [];
  let balancer: Balancer | undefined;
  const stop = async () => {
    await balancer?.stop();
    await Promise.all(started.map((node) => node.child.stop()));
    await redis.stop();
  };
  try {
    started.push(...(await Promise.all(ids.map((id) => startNode(id, mode, redis, settings)))));
    balancer = await startBalancer(kind, started, { affinity, secureCookie });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    redis,
    nodes: started,
    balancer,
    nodeOf: (sid) => started.find((node) => sid?.startsWith(`${node.id}.`)),
    stop,
  };
}
