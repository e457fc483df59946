/** examples/socket.io: the chat with rooms and acknowledgements, driven by socket.io-client on cometa (needs `npm run build`). */
import { io as connect, type Socket } from "socket.io-client";
import { afterEach, describe, expect, it } from "vitest";
// @ts-expect-error the example is plain JavaScript without declarations
import { start } from "../../examples/socket.io/server.mjs";

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function user(url: string): Promise<Socket> {
  const socket = connect(url, { forceNew: true, reconnection: false });
  cleanup.push(() => socket.close());
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", reject);
  });
  return socket;
}

describe("examples/socket.io", () => {
  it("serves the page and the script, joins rooms and acknowledges messages to the room only", async () => {
    const chat = (await start()) as { url: string; close(): Promise<void> };
    cleanup.push(() => chat.close());
    const page = await fetch(chat.url);
    expect(await page.text()).toContain('<script src="/socket.io.min.js">');
    expect((await fetch(new URL("/socket.io.min.js", chat.url))).status).toBe(200);

    const [ada, grace, linus] = await Promise.all([user(chat.url), user(chat.url), user(chat.url)]);
    expect(await ada.emitWithAck("join", "cometa", "Ada")).toEqual({ room: "cometa", members: ["Ada"] });
    const joined = new Promise((resolve) => ada.once("joined", resolve));
    expect(await grace.emitWithAck("join", "cometa", "Grace")).toEqual({ room: "cometa", members: ["Ada", "Grace"] });
    expect(await joined).toEqual({ name: "Grace", members: ["Ada", "Grace"] });
    expect(await linus.emitWithAck("join", "random", "Linus")).toEqual({ room: "random", members: ["Linus"] });

    const linusHeard: unknown[] = [];
    linus.on("message", (message) => linusHeard.push(message));
    const heard = new Promise<{ from: string; text: string }>((resolve) => grace.once("message", resolve));
    expect(await ada.emitWithAck("say", "hello room")).toEqual({ delivered: 2 });
    expect(await heard).toMatchObject({ from: "Ada", text: "hello room" });
    expect(await linus.emitWithAck("say", "anyone?")).toEqual({ delivered: 1 });
    expect(linusHeard).toEqual([expect.objectContaining({ from: "Linus", text: "anyone?" })]);
    expect(await grace.emitWithAck("join", "nowhere", "Grace")).toEqual({ error: 'no room "nowhere"' });
  });
});
