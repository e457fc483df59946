/**
 * Checking "exactly once and in order" on long runs: a report of what a receiver got against
 * what was sent that stays short when thousands of messages went wrong, and a seeded
 * pseudo-random generator so a run driven by chance can be replayed from its seed.
 */

/** What arrived against what was sent: all empty (and `arrived` equal to the count) when exact. */
export interface DeliveryReport {
  sent: number;
  arrived: number;
  /** Sent, never arrived: how many, and the first few. */
  missing: { count: number; first: string[] };
  /** Arrived more than once: how many extra copies, and the first few messages concerned. */
  duplicated: { count: number; first: string[] };
  /** Arrived, never sent. */
  unexpected: { count: number; first: string[] };
  /** The first place where what arrived differs from what was sent, with a few messages either side. */
  firstDifference?: { index: number; expected: string[]; arrived: string[] };
}

/** Long messages cut short, so a report stays readable. */
const short = (text: string) => (text.length > 40 ? `${text.slice(0, 40)}… (${text.length} chars)` : text);
const firstFew = (list: string[]) => list.slice(0, 5).map(short);

export function deliveryReport(sent: readonly string[], arrived: readonly unknown[]): DeliveryReport {
  const texts = arrived.map((data) => (typeof data === "string" ? data : `<${Object.prototype.toString.call(data)}>`));
  const wanted = new Set(sent);
  const seen = new Map<string, number>();
  for (const text of texts) seen.set(text, (seen.get(text) ?? 0) + 1);
  const missing = sent.filter((text) => !seen.has(text));
  const duplicated = [...seen].filter(([text, count]) => count > 1 && wanted.has(text));
  const unexpected = texts.filter((text) => !wanted.has(text));
  const index = texts.findIndex((text, i) => text !== sent[i]);
  const at = index >= 0 ? index : texts.length < sent.length ? texts.length : -1;
  const report: DeliveryReport = {
    sent: sent.length,
    arrived: texts.length,
    missing: { count: missing.length, first: firstFew(missing) },
    duplicated: { count: duplicated.reduce((sum, [, count]) => sum + count - 1, 0), first: firstFew(duplicated.map(([text]) => text)) },
    unexpected: { count: unexpected.length, first: firstFew(unexpected) },
  };
  if (at >= 0) {
    const from = Math.max(0, at - 2);
    report.firstDifference = { index: at, expected: sent.slice(from, at + 3).map(short), arrived: texts.slice(from, at + 3).map(short) };
  }
  return report;
}

/** The report of an exact delivery of `count` messages. */
export function exactly(count: number): DeliveryReport {
  return {
    sent: count,
    arrived: count,
    missing: { count: 0, first: [] },
    duplicated: { count: 0, first: [] },
    unexpected: { count: 0, first: [] },
  };
}

/** mulberry32: a small, fast 32-bit generator; the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The seed of a run: the environment variable `name` when set (to replay a failure), otherwise
 * a fresh one. Printed either way, with how to replay it.
 */
export function runSeed(name = "CHAOS_SEED"): number {
  const given = process.env[name];
  const seed = given !== undefined && given !== "" ? Number(given) : Math.floor(Math.random() * 2 ** 31);
  if (!Number.isInteger(seed)) throw new Error(`${name} must be an integer, got ${JSON.stringify(given)}`);
  console.log(`${name}=${seed}${given ? " (given)" : ""}: set it to replay this run's faults`);
  return seed;
}
