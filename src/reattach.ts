/**
 * Reattaching a resumable session whose transport broke (docs/wire.md, "Resumable sessions"):
 * a transport is opened with `reattach=N` in its URL, and the session is resumed when its first
 * packet, `6a<M>`, arrives. An attempt that fails or takes longer than `timeout` is closed and,
 * after a backoff (100 ms doubling up to 2 s), another is made, until the server's resume
 * window from the break has passed. A refusal (HTTP 400: the server no longer has the session)
 * ends it at once.
 */
import type { Environment } from "./env.js";
import type { CometaError } from "./errors.js";
import type { Trace } from "./trace.js";
import type { Transport, TransportDefinition } from "./transport.js";
import { decodeResumeControl } from "./wire.js";

export interface ReattachHost {
  env: Environment;
  /** Milliseconds an attempt may take (the socket's `probeTimeout`, or the heartbeat period when shorter). */
  timeout: number;
  /** Milliseconds from the break during which the server keeps the session (its terms' `window`). */
  window: number;
  trace?: Trace;
  /** The transport to try next. */
  next(): TransportDefinition;
  /** A transport whose URLs carry `reattach`. */
  create(definition: TransportDefinition): Transport;
  /** The server took the transport; `acked`: the count of the client's messages it delivered. */
  resumed(transport: Transport, acked: number): void;
  /** No attempt can succeed any more: why. */
  failed(message: string): void;
}

export interface Reattacher {
  /** Stops trying and closes the transport being tried. */
  cancel(): void;
}

export const firstRetryDelay = 100;
export const maxRetryDelay = 2000;

export function startReattach(host: ReattachHost): Reattacher {
  const { env, window } = host;
  const trace = host.trace;
  const deadline = env.now() + window;
  let delay = firstRetryDelay;
  let timer: unknown;
  let stop = () => {};

  const attempt = () => {
    const definition = host.next();
    const name = definition.name;
    trace && trace("session", "reattaching", { transport: name });
    const transport = host.create(definition);
    const end = () => {
      env.clearTimeout(timer);
      for (const off of unsubscribe) off();
      stop = () => {};
    };
    const fail = (error?: CometaError) => {
      end();
      transport.close();
      trace && trace("session", "reattach failed", { transport: name, error });
      // engine.io refuses a sid it does not have with 400 (code 1, which a WebSocket cannot read);
      // a reattach is refused with no other 400, and none would succeed later
      if (error && (error as { status?: number }).status === 400) return host.failed("session unknown to the server");
      // the server keeps the session the whole window: the last try starts no later than its end
      const left = deadline - env.now();
      if (left <= 0) return host.failed(`resume window passed after ${window} ms`);
      timer = env.setTimeout(attempt, Math.min(delay, left));
      delay = Math.min(delay * 2, maxRetryDelay);
    };
    stop = () => {
      end();
      transport.close();
    };
    const unsubscribe = [
      transport.on("error", fail),
      transport.on("close", () => fail()),
      transport.on("packet", (packet) => {
        const control = packet.type === "noop" ? decodeResumeControl(packet.data) : undefined;
        if (!control || control.kind !== "ack") return;
        end();
        host.resumed(transport, control.count);
      }),
    ];
    timer = env.setTimeout(() => fail(), Math.min(host.timeout, deadline - env.now()));
    transport.open();
  };

  attempt();
  return {
    cancel() {
      env.clearTimeout(timer);
      stop();
    },
  };
}
