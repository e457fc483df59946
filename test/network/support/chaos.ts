/**
 * Random faults through the fault proxy for a bounded time, drawn from a seeded generator so a
 * run's sequence of faults can be replayed. Each fault is followed by its restore:
 * - `cut`: every connection destroyed and new ones refused for the outage, then accepted again;
 * - `reset`: a black hole for the outage, then the old connections reset (a NAT that forgot them);
 * - `black hole`: a black hole for the outage, then the old connections left silent for good
 *   (only a heartbeat or a timeout can tell).
 */
import type { FaultProxy } from "./fault-proxy.js";

export type FaultKind = "cut" | "reset" | "black hole";

export interface ChaosOptions {
  /** Milliseconds during which faults are started. */
  duration: number;
  /** Milliseconds of normal service between a restore and the next fault, drawn in [min, max]. */
  gap?: [min: number, max: number];
  /** Milliseconds a fault lasts before its restore, drawn in [min, max]. */
  outage?: [min: number, max: number];
  kinds?: readonly FaultKind[];
}

export interface Chaos {
  /** Faults applied so far: when (ms from the start), which, for how long. */
  readonly faults: { at: number; kind: FaultKind; ms: number }[];
  /** Resolves when the last fault was restored and the path works for new connections. */
  readonly done: Promise<void>;
  /** Ends the run early (the current fault is restored at once). */
  stop(): void;
}

/** Counts of each kind of fault, for a measurement line. */
export function faultSummary(chaos: Chaos): string {
  const counts = new Map<FaultKind, number>();
  for (const fault of chaos.faults) counts.set(fault.kind, (counts.get(fault.kind) ?? 0) + 1);
  return [...counts].map(([kind, count]) => `${count} ${kind}`).join(", ");
}

export function startChaos(proxy: FaultProxy, random: () => number, options: ChaosOptions): Chaos {
  const { duration, gap = [50, 500], outage = [0, 400], kinds = ["cut", "reset", "black hole"] } = options;
  const draw = ([min, max]: [number, number]) => Math.round(min + random() * (max - min));
  const faults: Chaos["faults"] = [];
  const startedAt = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let restore: (() => void) | undefined;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));

  const end = () => {
    clearTimeout(timer);
    restore?.();
    restore = undefined;
    proxy.accept();
    finish();
  };

  const apply = () => {
    if (Date.now() - startedAt >= duration) return end();
    const kind = kinds[Math.floor(random() * kinds.length)]!;
    const ms = draw(outage);
    faults.push({ at: Date.now() - startedAt, kind, ms });
    if (kind === "cut") {
      proxy.down();
      restore = () => proxy.up();
    } else {
      proxy.blackHole();
      restore = () => proxy.restore({ reset: kind === "reset" });
    }
    timer = setTimeout(() => {
      restore?.();
      restore = undefined;
      timer = setTimeout(apply, draw(gap));
    }, ms);
  };

  timer = setTimeout(apply, draw(gap));
  return { faults, done, stop: end };
}
