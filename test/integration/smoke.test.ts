import { expect, test } from "vitest";
import { startEngineServer } from "../support/engine-server.js";
import { nodeEnv } from "../support/node-env.js";
import { Socket } from "../../src/index.js";

test("smoke", async () => {
  const server = await startEngineServer();
  const s = new Socket(server.url, { env: nodeEnv() });
  const log: unknown[] = [];
  await new Promise<void>((resolve) => {
    s.on("open", () => { log.push(["open", s.transport.name]); s.send("hello"); });
    s.on("upgrading", (n) => log.push(["upgrading", n]));
    s.on("upgrade", (n) => { log.push(["upgrade", n]); s.send("after upgrade"); s.send(new Uint8Array([1,2,3])); });
    s.on("upgradeError", (e) => log.push(["upgradeError", e]));
    let n = 0;
    s.on("message", (d) => { log.push(["message", d]); if (++n === 3) s.close(); });
    s.on("error", (e) => log.push(["error", e]));
    s.on("close", (r, d) => { log.push(["close", r, d]); resolve(); });
  });
  console.log(log);
  await server.close();
});
