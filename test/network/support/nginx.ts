/**
 * A real nginx as a child process, self-contained: its own temp dir for the config, pid, logs
 * and temp paths; an ephemeral loopback port; stopped by `stop()` (SIGQUIT, then SIGKILL).
 *
 * Runs as a single process (`master_process off`), so as root there is no worker user to
 * switch to and nothing outside the temp dir is touched.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, killOnExit } from "../../support/processes.js";

const candidates = [process.env.NGINX, "/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"];

/** The nginx binary, if there is one. */
export function findNginx(): string | undefined {
  return candidates.find((path): path is string => Boolean(path && existsSync(path)));
}

/**
 * Whether the nginx tests can run. Missing nginx fails under CI (it is installed there) and
 * skips elsewhere, with one message saying how to get it.
 */
export function nginxAvailable(): boolean {
  if (findNginx()) return true;
  const message = "nginx not found (looked in /usr/sbin/nginx; set NGINX=path): install it with `apt-get install -y nginx-light`";
  if (process.env.CI) throw new Error(message);
  console.warn(`skipping the nginx tests: ${message}`);
  return false;
}

/**
 * What goes inside `location / { ... }` besides `proxy_pass`, for each proxy the tests put in
 * front of the server.
 */
export const proxyConfigs = {
  /** HTTP/1.1 to the upstream, but the Upgrade/Connection headers are not forwarded. */
  noUpgradeHeaders: `
    proxy_http_version 1.1;`,
  /**
   * Response buffering on with 1 MB buffers, ignoring the server's `X-Accel-Buffering: no`; no
   * WebSocket (Upgrade not forwarded). nginx still forwards what it has read whenever the
   * client can take it, so for a client that keeps up this holds nothing back.
   */
  proxyBuffering: `
    proxy_http_version 1.1;
    proxy_buffering on;
    proxy_buffer_size 1m;
    proxy_buffers 8 1m;
    proxy_busy_buffers_size 2m;
    proxy_ignore_headers X-Accel-Buffering;`,
  /**
   * The same, plus gzip for the streaming content types: the compressor holds a response's
   * output until its buffers fill or the response ends, so streams deliver nothing in time.
   */
  gzipStreams: `
    proxy_http_version 1.1;
    proxy_buffering on;
    proxy_buffer_size 1m;
    proxy_buffers 8 1m;
    proxy_busy_buffers_size 2m;
    proxy_ignore_headers X-Accel-Buffering;
    gzip on;
    gzip_proxied any;
    gzip_types text/plain text/event-stream;`,
  /** Everything right except a 2 s read timeout: held polls, idle streams and sockets are cut. */
  shortReadTimeout: readTimeout(2),
  /** What the README recommends. */
  recommended: `
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
    proxy_set_header Host $host;
    proxy_buffering off;
    proxy_read_timeout 75s;`,
} as const;

/** Everything right except the read timeout. */
export function readTimeout(seconds: number): string {
  return `
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
    proxy_buffering off;
    proxy_read_timeout ${seconds}s;`;
}

export interface Nginx {
  /** `http://127.0.0.1:PORT`, the proxy's address. */
  url: string;
  port: number;
  /** The temp dir holding the config and logs. */
  dir: string;
  /** What nginx wrote to its error log so far. */
  errorLog(): string;
  /** Stops nginx (SIGQUIT, SIGKILL after 3 s) and removes its temp dir. */
  stop(): Promise<void>;
}

function config(dir: string, port: number, upstreamPort: number, location: string): string {
  return `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
worker_shutdown_timeout 1s;
events { worker_connections 512; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  client_max_body_size 10m;
  map $http_upgrade $connection_upgrade { default upgrade; "" close; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://127.0.0.1:${upstreamPort};${location}
    }
  }
}
`;
}

/** Resolves once something accepts TCP connections on `port`; rejects after `timeoutMs`. */
export function waitForPort(port: number, timeoutMs: number, alive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (!alive()) return reject(new Error(`nothing will listen on port ${port}: the process exited`));
      const socket = createConnection({ port, host: "127.0.0.1" });
      socket.once("connect", () => {
        socket.destroy();
        resolve();
      });
      socket.once("error", () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing listens on port ${port} after ${timeoutMs} ms`));
        else setTimeout(attempt, 20);
      });
    };
    attempt();
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * Starts nginx proxying `http://127.0.0.1:upstreamPort` with `location` directives (one of
 * `proxyConfigs`), on a free loopback port; retries when another process takes the port first.
 */
export async function startNginx(upstreamPort: number, location: string): Promise<Nginx> {
  const binary = findNginx();
  if (!binary) throw new Error("nginx not found: apt-get install -y nginx-light");
  const dir = mkdtempSync(join(tmpdir(), "cometa-nginx-"));
  let lastError = "";
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    writeFileSync(join(dir, "nginx.conf"), config(dir, port, upstreamPort, location));
    const child = spawn(binary, ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    killOnExit(child);
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    let alive = true;
    const done = exited(child).then(() => void (alive = false));
    try {
      await waitForPort(port, 5000, () => alive);
      const stop = async () => {
        if (alive) {
          child.kill("SIGQUIT");
          const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
          await done;
          clearTimeout(timer);
        }
        rmSync(dir, { recursive: true, force: true });
      };
      return { url: `http://127.0.0.1:${port}`, port, dir, errorLog: () => readLog(dir), stop };
    } catch (error) {
      if (alive) child.kill("SIGKILL");
      await done;
      lastError = `${(error as Error).message}\n${stderr}\n${readLog(dir)}`;
      // another process took the port between our probe and nginx's bind: try another
      if (!/Address already in use/.test(lastError)) break;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`nginx did not start: ${lastError}`);
}

function readLog(dir: string): string {
  try {
    return readFileSync(join(dir, "error.log"), "utf8");
  } catch {
    return "";
  }
}
