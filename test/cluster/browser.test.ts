/**
 * Chromium behind the balancers, on the transports only a page has (iframe and JSONP) and on
 * the upgrade from long-polling: the page on an origin of its own, the engine through haproxy
 * routing on its cookie alone (a real browser's cookie jar, one per client) or through nginx
 * routing on the sid alone (no cookie at all). A broadcast from each process reaches them all.
 * Needs the built client (`npm run build`).
 */
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { chromiumArgs, chromiumAvailable, chromiumPath, distDir } from "../browser/support/browser.js";
import { type BalancerKind, type Cluster, clusterAvailable, startCluster } from "./support/cluster.js";

const script = `${distDir}/cometa.min.js`;
const runnable = chromiumAvailable && existsSync(script) && clusterAvailable();
if (!runnable && process.env.CI) throw new Error(`the cluster browser tests need ${chromiumPath} and ${script} (npm run build)`);

/** In the page: one socket, what it receives, and how it got there. */
const PAGE = `<!doctype html><meta charset="utf-8"><script src="/cometa.min.js"></script><script>
window.received = [];
window.problems = [];
window.start = (url, transports) => new Promise((resolve, reject) => {
  const socket = (window.socket = new Cometa.Socket(url, { transports, withCredentials: true }));
  const final = transports.at(-1);
  socket.on("message", (data) => window.received.push(data));
  socket.on("error", (error) => window.problems.push(error.name + ": " + error.message));
  socket.on("close", (reason) => reject(new Error("closed: " + reason + " " + window.problems.join("; "))));
  const settled = () => socket.transport.name === final && resolve({ id: socket.id, transport: socket.transport.name });
  socket.on("open", settled);
  socket.on("upgrade", settled);
});
</script>`;

describe.runIf(runnable)("Chromium clients of a cluster", () => {
  let browser: Browser;
  let pages: Server;
  let pageOrigin: string;
  beforeAll(async () => {
    // read once: a build running meanwhile empties dist/
    const built = readFileSync(script);
    pages = createServer((req, res) => {
      if (req.url === "/cometa.min.js") res.writeHead(200, { "Content-Type": "text/javascript" }).end(built);
      else if (req.url === "/") res.writeHead(200, { "Content-Type": "text/html" }).end(PAGE);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => pages.listen(0, "127.0.0.1", resolve));
    pageOrigin = `http://127.0.0.1:${(pages.address() as { port: number }).port}`;
    browser = await chromium.launch({ executablePath: chromiumPath, args: [...chromiumArgs], headless: true });
  });
  afterAll(async () => {
    await browser?.close();
    pages?.closeAllConnections();
    await new Promise((resolve) => pages?.close(resolve));
  });

  const setups: { kind: BalancerKind; affinity: "cookie" | "sid"; label: string }[] = [
    { kind: "haproxy", affinity: "cookie", label: "haproxy routing on its cookie alone" },
    { kind: "nginx", affinity: "sid", label: "nginx routing on the sid alone" },
  ];

  describe.each(setups)("$label", ({ kind, affinity }) => {
    let cluster: Cluster;
    beforeAll(async () => void (cluster = await startCluster(kind, "engine", { affinity })));
    afterAll(() => cluster?.stop());

    test("iframe, JSONP and long-polling upgraded to WebSocket: each page stays on its node, and every broadcast reaches every page", async () => {
      const contexts: BrowserContext[] = [];
      const clients: { page: Page; transports: string[]; node: string }[] = [];
      try {
        for (const transports of [["iframe"], ["jsonp"], ["polling", "websocket"]]) {
          const opened = await Promise.all(
            Array.from({ length: 3 }, async () => {
              // a context each: a cookie jar of its own, as three browsers have
              const context = await browser.newContext();
              contexts.push(context);
              const page = await context.newPage();
              await page.goto(`${pageOrigin}/`, { waitUntil: "domcontentloaded" });
              const { id, transport } = await page.evaluate(([url, names]) => (window as any).start(url, names), [cluster.balancer.url, transports] as const);
              expect(transport).toBe(transports.at(-1));
              const node = cluster.nodeOf(id);
              expect(node, `sid ${id}`).toBeDefined();
              return { page, transports, node: node!.id };
            }),
          );
          expect(opened.map((client) => client.node).sort(), transports.join(",")).toEqual(["a", "b", "c"]);
          clients.push(...opened);
        }
        for (const client of clients) {
          // a message up (a POST, or a form POST for JSONP) answered by the page's own node
          await client.page.evaluate(() => (window as any).socket.send("hi"));
          await client.page.waitForFunction(() => (window as any).received.length === 1, undefined, { timeout: 10_000 });
          expect(await client.page.evaluate(() => (window as any).received[0])).toBe(`echo ${client.node} hi`);
          const held = await cluster.nodes.find((node) => node.id === client.node)!.sessions();
          // engine.io serves JSONP as its polling transport
          const serverName = client.transports.at(-1) === "jsonp" ? "polling" : client.transports.at(-1);
          expect(held.map((session) => session.transport)).toContain(serverName);
        }
        if (affinity === "cookie") {
          const cookies = await Promise.all(contexts.map((context) => context.cookies(cluster.balancer.url)));
          expect(cookies.map((jar) => jar.find((cookie) => cookie.name === "SERVERID")?.value)).toEqual(clients.map((client) => client.node));
        }
        for (const node of cluster.nodes) await node.broadcast(`from ${node.id}`);
        for (const client of clients) {
          await client.page.waitForFunction(() => (window as any).received.length === 4, undefined, { timeout: 10_000 });
          expect(await client.page.evaluate(() => (window as any).received.slice(1))).toEqual(["from a", "from b", "from c"]);
          expect(await client.page.evaluate(() => (window as any).problems)).toEqual([]);
        }
      } finally {
        await Promise.all(contexts.map((context) => context.close()));
      }
    });
  });
});
