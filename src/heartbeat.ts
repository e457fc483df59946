/**
 * The liveness check of engine.io v4: the server pings, and the connection is dead when no
 * ping came for pingInterval + pingTimeout. Measured against the wall clock, because a
 * background tab's throttled timers fire late and a late timer must not hide a dead link.
 */
import type { Environment } from "./env.js";

export interface Heartbeat {
  /** A ping arrived (or the session opened): the deadline moves. */
  beat(): void;
  /** True when the deadline has passed, whether or not the timer has fired yet. */
  expired(): boolean;
  stop(): void;
}

export function createHeartbeat(env: Environment, periodMs: number, onExpired: () => void): Heartbeat {
  let deadline = 0;
  let timer: unknown;

  const schedule = (delay: number) => {
    // timers take at most 2^31-1 ms and fire at once past it; the deadline is the clock's, so a
    // longer period is waited out in several timers of at most 2e9 ms
    timer = env.setTimeout(check, Math.min(delay, 2e9));
  };
  const check = () => {
    timer = undefined;
    const remaining = deadline - env.now();
    if (remaining <= 0) onExpired();
    else schedule(remaining);
  };

  return {
    beat() {
      deadline = env.now() + periodMs;
      // the timer already armed fires at the old deadline and re-arms for the remainder, so a
      // ping costs no timer churn
      if (timer === undefined) schedule(periodMs);
    },
    expired: () => timer !== undefined && env.now() >= deadline,
    stop() {
      env.clearTimeout(timer);
      timer = undefined;
    },
  };
}
