/**
 * The cluster's real parts as child processes (Node nodes, redis-server, haproxy, nginx), each
 * stopped by its test: `stop()` asks it to end (SIGTERM, SIGKILL after 3 s), `kill()` is a
 * crash. Any still running when the test process exits are killed then.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { freePort, killOnExit } from "../../support/processes.js";

export { freePort };

export interface Child {
  readonly pid: number;
  /** stdout and stderr so far. */
  output(): string;
  readonly alive: boolean;
  /** Resolves once the process has exited. */
  readonly exited: Promise<void>;
  /** Resolves with the first stdout line that `match` accepts; rejects if the process exits first. */
  line(match: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM (or `signal`), then SIGKILL after 3 s; resolves once it has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** SIGKILL: the process dies as in a crash. */
  kill(): Promise<void>;
}

export function start(command: string, args: string[], env: Record<string, string | undefined> = {}): Child {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  killOnExit(child);
  let output = "";
  let alive = true;
  const listeners = new Set<() => void>();
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      alive = false;
      listeners.forEach((listener) => listener());
      resolve();
    }),
  );
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
      listeners.forEach((listener) => listener());
    });
  }
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (!alive) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
  };
  return {
    pid: child.pid!,
    output: () => output,
    get alive() {
      return alive;
    },
    exited,
    line: (match, timeoutMs = 10_000) =>
      new Promise<string>((resolve, reject) => {
        const check = () => {
          const found = output.split("\n").find((line) => match.test(line));
          if (found !== undefined) return done(() => resolve(found));
          if (!alive) done(() => reject(new Error(`${command} exited before printing ${match}:\n${output}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`${command} printed no ${match} in ${timeoutMs} ms:\n${output}`))), timeoutMs);
        const done = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      }),
    stop,
    kill: () => stop("SIGKILL"),
  };
}

export function findBinary(candidates: (string | undefined)[]): string | undefined {
  return candidates.find((path): path is string => Boolean(path && existsSync(path)));
}

/**
 * Whether the cluster tests can run: every binary found. A missing one fails under CI (.ci/run
 * installs them) and skips elsewhere, saying what to install.
 */
export function binariesAvailable(binaries: Record<string, string | undefined>): boolean {
  const missing = Object.entries(binaries)
    .filter(([, path]) => !path)
    .map(([name]) => name);
  if (missing.length === 0) return true;
  const message = `${missing.join(", ")} not found: install with \`apt-get install -y ${missing.join(" ")}\``;
  if (process.env.CI) throw new Error(message);
  console.warn(`skipping the cluster tests: ${message}`);
  return false;
}
