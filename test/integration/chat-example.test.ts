/** examples/chat: two cometa clients in one room, and clients that send garbage. */
import { afterEach, beforeEach, expect, test } from "vitest";
import { Socket } from "../../src/index.js";
import type { SocketOptions } from "../../src/socket.js";
import { closed, record } from "../support/events.js";
import { nodeEnv } from "../support/node-env.js";
// @ts-expect-error: a plain .mjs example without types
import { limits, startChatServer } from "../../examples/chat/server.mjs";

interface User {
  name: string;
  transport: string;
}
type ChatMessage =
  | { type: "welcome"; name: string; token: string; users: User[]; history: unknown[] }
  | { type: "joined" | "left"; name: string; users: User[] }
  | { type: "users"; users: User[] }
  | { type: "message"; from: string; text: string; at: number }
  | { type: "error"; message: string };

// A fresh room for every test.
let chat: { url: string; close(): Promise<void> };
beforeEach(async () => {
  chat = await startChatServer({ port: 0 });
});
afterEach(() => chat.close());

/**
 * A chat client: every message parsed, awaited in order with `next`. `users` updates (sent
 * whenever someone's transport changes, so at upgrade times) are dropped unless asked for.
 */
function client(options: SocketOptions = {}, { users = false } = {}) {
  const socket = new Socket(chat.url, { env: nodeEnv(), ...options });
  const inbox: ChatMessage[] = [];
  const waiting: ((message: ChatMessage) => void)[] = [];
  socket.on("message", (data) => {
    const message = JSON.parse(data as string) as ChatMessage;
    if (message.type === "users" && !users) return;
    const resolve = waiting.shift();
    if (resolve) resolve(message);
    else inbox.push(message);
  });
  return {
    socket,
    send: (message: unknown) => socket.send(typeof message === "string" ? message : JSON.stringify(message)),
    next: (): Promise<ChatMessage> => {
      const queued = inbox.shift();
      return queued ? Promise.resolve(queued) : new Promise((resolve) => waiting.push(resolve));
    },
    async close() {
      if (socket.state === "closed") return;
      const done = closed(socket);
      socket.close();
      await done;
    },
  };
}

async function joined(name: string, options?: SocketOptions, flags?: { users?: boolean }) {
  const c = client(options, flags);
  c.send({ type: "join", name });
  const welcome = await c.next();
  expect(welcome).toMatchObject({ type: "welcome", name });
  return { ...c, welcome: welcome as Extract<ChatMessage, { type: "welcome" }> };
}

test("serves the page, its script and style, and the minified build, under a strict CSP", async () => {
  const page = await fetch(chat.url);
  expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
  expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
  const html = await page.text();
  expect(html).toContain('<script src="/cometa.min.js"></script>');
  expect(html).not.toMatch(/<script>|style=|innerHTML/);
  const script = await fetch(new URL("/chat.js", chat.url));
  expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
  expect(await script.text()).not.toContain("innerHTML");
  expect((await fetch(new URL("/chat.css", chat.url))).headers.get("content-type")).toBe("text/css; charset=utf-8");
  expect(await (await fetch(new URL("/cometa.min.js", chat.url))).text()).toMatch(/^var Cometa=/);
  expect((await fetch(new URL("/nope", chat.url))).status).toBe(404);
});

test("two users join, see who is here, talk live, and a leave is announced", async () => {
  const ada = await joined("Ada");
  expect(ada.welcome.users.map((u) => u.name)).toEqual(["Ada"]);
  expect(ada.welcome.token).toMatch(/^[0-9a-f-]{36}$/);
  expect(await ada.next()).toMatchObject({ type: "joined", name: "Ada" });

  const bob = await joined("Bob");
  expect(bob.welcome.users.map((u) => u.name)).toEqual(["Ada", "Bob"]);
  expect(await bob.next()).toMatchObject({ type: "joined", name: "Bob" });
  const seen = await ada.next();
  expect(seen).toMatchObject({ type: "joined", name: "Bob" });

  ada.send({ type: "say", text: "  hello, <b>Bob</b>  " });
  for (const c of [ada, bob]) {
    expect(await c.next()).toMatchObject({ type: "message", from: "Ada", text: "hello, <b>Bob</b>" });
  }
  bob.send({ type: "say", text: "hi Ada 👋" });
  for (const c of [ada, bob]) expect(await c.next()).toMatchObject({ type: "message", from: "Bob", text: "hi Ada 👋" });

  // A latecomer gets the history.
  const cy = await joined("Cy");
  expect(cy.welcome.history).toMatchObject([{ from: "Ada" }, { from: "Bob" }]);
  expect(await ada.next()).toMatchObject({ type: "joined", name: "Cy" });
  expect(await bob.next()).toMatchObject({ type: "joined", name: "Cy" });

  await bob.close();
  expect(await ada.next()).toMatchObject({ type: "left", name: "Bob", users: [{ name: "Ada" }, { name: "Cy" }] });
  await Promise.all([ada.close(), cy.close()]);
});

test("the user list follows each session's transport", async () => {
  const ada = await joined("Ada2", {}, { users: true });
  await ada.next(); // joined
  if (ada.welcome.users[0]?.transport === "polling") {
    // joined on polling: the upgrade to WebSocket is announced
    const update = await ada.next();
    expect(update).toEqual({ type: "users", users: [{ name: "Ada2", transport: "websocket" }] });
  }
  expect(ada.socket.transport.name).toBe("websocket");

  // Forcing a transport: a new session that takes the name back with its token, quietly.
  // the server closes the old session as it welcomes the new one: its close packet may be in
  // before the welcome is read
  const oldClosed = closed(ada.socket);
  const resuming = record(ada.socket, ["resuming"]);
  const again = client({ transports: ["sse"] }, { users: true });
  again.send({ type: "join", name: "Ada2", token: ada.welcome.token });
  expect(await again.next()).toMatchObject({ type: "welcome", name: "Ada2", users: [{ name: "Ada2", transport: "sse" }] });
  expect(await again.next()).toEqual({ type: "users", users: [{ name: "Ada2", transport: "sse" }] });
  // the server let the old session go, as a close (no reattach: its reason is the server's)
  expect((await oldClosed).reason).toBe("transport close");
  expect(resuming).toEqual([]);
  await again.close();
});

test("a taken name is refused without a token, or with the wrong one", async () => {
  const ada = await joined("Ada3");
  const impostor = client();
  impostor.send({ type: "join", name: "Ada3" });
  expect(await impostor.next()).toEqual({ type: "error", message: 'the name "Ada3" is taken' });
  impostor.send({ type: "join", name: "Ada3", token: "guess" });
  expect(await impostor.next()).toEqual({ type: "error", message: 'the name "Ada3" is taken' });
  await Promise.all([ada.close(), impostor.close()]);
});

test("bad input is refused with an error, and the session and the server go on", async () => {
  const watcher = await joined("Watcher");
  await watcher.next(); // joined
  const rude = client();
  const cases: [unknown, string][] = [
    ["not json", "message is not JSON"],
    ["[1,2]", "message must be a JSON object"],
    ["null", "message must be a JSON object"],
    [{ type: "say", text: "before joining" }, "join first"],
    [{ type: "join" }, "name is required"],
    [{ type: "join", name: "   " }, "name is required"],
    [{ type: "join", name: 42 }, "name is required"],
    [{ type: "join", name: "x".repeat(limits.name + 1) }, `name too long (max ${limits.name} characters)`],
    [{ type: "join", name: "evil\u202Eeman" }, "name contains control characters"],
    [{ type: "join", name: "ok", token: 5 }, "token must be a string"],
    [{ type: "dance" }, "unknown message type"],
    ["x".repeat(limits.message + 1), `message too long (max ${limits.message} characters)`],
  ];
  for (const [input] of cases) rude.send(input);
  rude.socket.send(new Uint8Array([1, 2, 3]));
  for (const [, reason] of cases) expect(await rude.next()).toEqual({ type: "error", message: reason });
  expect(await rude.next()).toEqual({ type: "error", message: "messages must be text" });

  rude.send({ type: "join", name: "Rude" });
  expect(await rude.next()).toMatchObject({ type: "welcome", name: "Rude" });
  expect(await watcher.next()).toMatchObject({ type: "joined", name: "Rude" });
  expect(await rude.next()).toMatchObject({ type: "joined" });
  rude.send({ type: "join", name: "Again" });
  expect(await rude.next()).toEqual({ type: "error", message: "you have already joined" });
  rude.send({ type: "say", text: "y".repeat(limits.text + 1) });
  expect(await rude.next()).toEqual({ type: "error", message: `text too long (max ${limits.text} characters)` });
  rude.send({ type: "say", text: "" });
  expect(await rude.next()).toEqual({ type: "error", message: "text is required" });
  rude.send({ type: "say", text: "line\nbreak" });
  expect(await rude.next()).toEqual({ type: "error", message: "text contains control characters" });
  // Nothing of that reached the room.
  rude.send({ type: "say", text: "sorry" });
  expect(await watcher.next()).toMatchObject({ type: "message", from: "Rude", text: "sorry" });

  // Over engine.io's maxHttpBufferSize: the server drops that session, and only that one.
  const left = watcher.next();
  rude.socket.send("z".repeat(200_000));
  await closed(rude.socket);
  expect(await left).toMatchObject({ type: "left", name: "Rude" });
  watcher.send({ type: "say", text: "still here" });
  expect(await watcher.next()).toMatchObject({ type: "message", text: "still here" });
  await watcher.close();
});

test("a flood is cut to a burst per window", async () => {
  const fast = await joined("Fast");
  await fast.next(); // joined
  for (let i = 0; i < limits.burst + 2; i++) fast.send({ type: "say", text: `n${i}` });
  const received = [];
  for (let i = 0; i < limits.burst + 2; i++) received.push(await fast.next());
  expect(received.filter((m) => m.type === "message")).toHaveLength(limits.burst - 1); // the join counted
  expect(received.filter((m) => m.type === "error")).toEqual([
    { type: "error", message: "slow down" },
    { type: "error", message: "slow down" },
    { type: "error", message: "slow down" },
  ]);
  await fast.close();
});

test("a page from another origin is refused", async () => {
  const response = await fetch(new URL("/engine.io/?EIO=4&transport=polling", chat.url), {
    headers: { Origin: "https://evil.example" },
  });
  expect(response.status).toBe(403);
});

test("a user on JSONP is listed as on jsonp, not polling (engine.io serves JSONP as a polling variant)", async () => {
  // a raw JSONP client, as the page's <script> tags are: GETs answered with ___eio[0]("..."), form POSTs
  const base = new URL("/engine.io/?EIO=4&transport=polling&j=0", chat.url);
  // what a browser sends with the page's own <script> and form requests
  const page = { Referer: chat.url, "Sec-Fetch-Site": "same-origin" };
  const payload = async (url: URL) => {
    const script = await (await fetch(url, { headers: page })).text();
    return (JSON.parse(/^___eio\[0\]\((".*")\);$/s.exec(script)![1]!) as string).split("\x1e");
  };
  const [open] = await payload(base);
  const { sid } = JSON.parse(open!.slice(1)) as { sid: string };
  const session = new URL(`${base}&sid=${sid}`);
  const posted = await fetch(session, {
    method: "POST",
    headers: { ...page, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ d: `4${JSON.stringify({ type: "join", name: "Jo" })}` }),
  });
  expect(posted.status).toBe(200);
  const packets = await payload(session);
  const welcome = JSON.parse(packets.find((packet) => packet.startsWith("4"))!.slice(1)) as Extract<ChatMessage, { type: "welcome" }>;
  expect(welcome).toMatchObject({ type: "welcome", name: "Jo" });
  expect(welcome.users).toEqual([{ name: "Jo", transport: "jsonp" }]);
});
