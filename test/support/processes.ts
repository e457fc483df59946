/**
 * What the suite's real parts started as child processes (nginx, haproxy, redis-server, cluster
 * nodes, WebKitWebDriver) share: a free loopback port to give them, and a guard that kills any
 * still running when the test process exits.
 */
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";

/** A loopback port nothing listens on right now (the caller binds it next). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const running = new Set<ChildProcess>();
let exitHook = false;

/** Kills `child` if the test process exits before it does. */
export function killOnExit(child: ChildProcess): void {
  running.add(child);
  child.once("exit", () => running.delete(child));
  if (exitHook) return;
  exitHook = true;
  process.once("exit", () => running.forEach((each) => each.kill("SIGKILL")));
}
