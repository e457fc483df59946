/**
 * The upgrade manager: with the session open on a pausable transport, it probes the better
 * transports best first (`2probe` / `3probe`), pauses the current one so its in-flight GET
 * and POST finish, sends `5` on the candidate and hands it over. A probe that fails or times
 * out is closed and the next candidate tried, while the current transport keeps working.
 */
import type { Environment } from "./env.js";
import { type CometaError, UpgradeError } from "./errors.js";
import type { Packet, ReceivedPacket } from "./protocol.js";
import type { Trace } from "./trace.js";
import type { Transport, TransportDefinition } from "./transport.js";

export interface UpgradeHost {
  env: Environment;
  probeTimeout: number;
  /** Told each step: a probe started, answered or failed and why, a pause, a swap. */
  trace?: Trace;
  /** The transport the session is on now. */
  current(): Transport;
  create(definition: TransportDefinition): Transport;
  upgrading(name: string): void;
  /** Packets that go before `5` in the same write (a resumable session's `6a<N>`). */
  before?(): Packet[];
  /** Swaps transports; `early` are packets the candidate received before the swap. */
  upgraded(candidate: Transport, early: ReceivedPacket[]): void;
  failed(error: UpgradeError): void;
}

export interface Upgrader {
  /** Stops probing and closes any candidate; the current transport is left as it is. */
  cancel(): void;
}

export function startUpgrades(host: UpgradeHost, candidates: readonly TransportDefinition[]): Upgrader {
  const trace = host.trace;
  let cancelled = false;
  let stopCandidate: (() => void) | undefined;

  const probe = (index: number) => {
    if (cancelled || index >= candidates.length) return;
    const definition = candidates[index]!;
    const name = definition.name;
    const current = host.current();
    trace && trace("probe", `probing ${name}`, { transport: name, from: current.name });
    const candidate = host.create(definition);
    const early: ReceivedPacket[] = [];
    let settled = false;
    let paused = false;
    const unsubscribe: (() => void)[] = [];

    const cleanup = () => {
      host.env.clearTimeout(timer);
      for (const off of unsubscribe) off();
      stopCandidate = undefined;
    };
    const giveUp = (message: string, cause?: CometaError) => {
      if (settled) return;
      settled = true;
      cleanup();
      candidate.close();
      if (paused || current.state === "pausing" || current.state === "paused") current.resume && current.resume();
      trace && trace("probe", `${name} failed: ${message}`, { transport: name, reason: message, error: cause });
      if (cancelled) return;
      host.failed(new UpgradeError(`upgrade to ${name} failed: ${message}`, name, { cause }));
      probe(index + 1);
    };
    stopCandidate = () => giveUp("cancelled");

    // bounds the whole attempt, pause included, so a held request cannot stall it
    const timer = host.env.setTimeout(() => giveUp(`no probe answer within ${host.probeTimeout} ms`), host.probeTimeout);

    unsubscribe.push(
      candidate.on("error", (error) => giveUp(error.message, error)),
      candidate.on("close", () => giveUp("closed during the probe")),
      candidate.on("open", () => candidate.send([{ type: "ping", data: "probe" }])),
      candidate.on("packet", (packet) => {
        if (settled) return;
        if (packet.type !== "pong" || packet.data !== "probe" || paused) {
          early.push(packet);
          return;
        }
        paused = true;
        trace && trace("probe", "answered", { transport: name });
        // the pause itself ("pausing", "paused") is traced by the transport, whose states they are
        host.upgrading(name);
        const pausing = current.pause ? current.pause() : Promise.resolve();
        pausing.then(() => {
          if (settled || cancelled) return;
          if (candidate.state !== "open" || !candidate.writable) {
            // an HTTP candidate may still be POSTing the probe; its drain resumes the swap
            const off = candidate.on("drain", () => {
              off();
              if (!settled) swap();
            });
            unsubscribe.push(off);
            return;
          }
          swap();
        });
      }),
    );

    const swap = () => {
      settled = true;
      cleanup();
      candidate.send((host.before ? host.before() : []).concat({ type: "upgrade" }));
      trace && trace("upgrade", "upgraded", { transport: name, from: current.name });
      host.upgraded(candidate, early);
    };

    candidate.open();
  };

  probe(0);
  return {
    cancel() {
      cancelled = true;
      if (stopCandidate) stopCandidate();
    },
  };
}
