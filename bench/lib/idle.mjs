/**
 * Server side, per transport: memory per idle session and CPU while heartbeats run. For each
 * transport a fresh server process (--expose-gc) and a fresh client process (swarm.mjs):
 *   1. warm-up: open and close a few sessions, so the transport's code is loaded and compiled;
 *   2. baseline: full GCs, then RSS and heap;
 *   3. open N sessions, let them sit for two heartbeats, full GCs, RSS and heap again:
 *      (after - baseline) / N;
 *   4. CPU: process.cpuUsage() of the server over a window of idle heartbeats.
 */
import { sleep, startChild, waitForSessions } from "./util.mjs";

const IFRAME_ORIGIN = "http://bench.invalid";


export async function measureIdle(builds, { transports, sessions, warmupSessions = 50, pingInterval, cpuWindowMs, log, deadline }) {
  const results = {};
  for (const transport of transports) {
    if (Date.now() > deadline) {
      results[transport] = { error: "skipped: the run's time budget was spent" };
      continue;
    }
    const started = Date.now();
    let server;
    let swarm;
    try {
      server = await startChild(
        "server.mjs",
        { serverModule: builds.server, pingInterval, pingTimeout: Math.max(20000, pingInterval * 4), iframeOrigin: IFRAME_ORIGIN },
        ["--expose-gc"],
      );
      swarm = await startChild("swarm.mjs", { clientModule: builds.client, url: server.value, transport, iframeOrigin: IFRAME_ORIGIN });
      const warm = await swarm.request({ type: "open", count: warmupSessions }, 60_000);
      if (warm.open === 0) throw new Error(`no session opens on ${transport}: ${warm.firstError}`);
      await swarm.request({ type: "close" });
      await waitForSessions(server, 0, 35_000);
      const before = await server.request({ type: "memory" });
      const opened = await swarm.request({ type: "open", count: sessions }, 180_000);
      // two heartbeats, so every session reached its steady state (a held poll, a pong posted)
      await sleep(Math.max(1000, 2 * pingInterval + 200));
      const after = await server.request({ type: "memory" });
      await server.request({ type: "cpuStart" });
      await sleep(cpuWindowMs);
      const cpu = await server.request({ type: "cpuStop" });
      const status = await swarm.request({ type: "status" });
      const n = after.sessions - before.sessions;
      results[transport] = {
        sessions: n,
        failed: opened.failed,
        lost: status.lost,
        rssPerSession: (after.rss - before.rss) / n,
        heapPerSession: (after.heapUsed - before.heapUsed) / n,
        externalPerSession: (after.external - before.external) / n,
        cpuMsPerSecond: (cpu.cpuMs / cpu.wallMs) * 1000,
        cpuMsPerSecondPer1000: ((cpu.cpuMs / cpu.wallMs) * 1000 * 1000) / cpu.sessions,
        seconds: (Date.now() - started) / 1000,
      };
      if (opened.failed) results[transport].firstError = opened.firstError;
      log?.(`  idle ${transport}: ${n} sessions, ${(results[transport].rssPerSession / 1024).toFixed(1)} KiB RSS/session, ${(results[transport].heapPerSession / 1024).toFixed(1)} KiB heap/session, ${results[transport].cpuMsPerSecondPer1000.toFixed(1)} ms CPU/s per 1000 (${results[transport].seconds.toFixed(0)} s)`);
    } catch (error) {
      results[transport] = { error: String(error?.message ?? error) };
      log?.(`  idle ${transport}: FAILED ${results[transport].error}`);
    } finally {
      await swarm?.request({ type: "close" }).catch(() => {});
      await swarm?.stop();
      await server?.stop();
    }
  }
  return results;
}

