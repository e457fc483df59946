/**
 * Stock clients against cometa's Server: engine.io-client 6.6 (Node XHR + ws) connects,
 * upgrades to WebSocket and echoes; socket.io 4.8 runs on it via io.bind(engine).
 */
import { Socket as ClientSocket, type SocketOptions } from "engine.io-client";
import { Server as IoServer } from "socket.io";
import { afterEach, describe, expect, it } from "vitest";
import { Server } from "../../src/server/index.js";
import { SseParser } from "./support/framing.js";
import { PacketStream, post, sidOf } from "./support/http-client.js";
import { type TestServer, startServer } from "../support/server.js";
import { once } from "../support/events.js";

let server: TestServer | undefined;
const clients: ClientSocket[] = [];

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

function connect(options: Partial<SocketOptions> = {}): ClientSocket {
  const client = new ClientSocket(`http://127.0.0.1:${server!.port}`, options);
  clients.push(client);
  return client;
}

describe("engine.io-client 6.6", () => {
  it("connects over polling, upgrades to websocket and echoes", async () => {
    server = await startServer();
    server.engine.on("connection", (socket) => socket.on("message", (data: unknown) => socket.send(data as string)));
    const connection = server.nextConnection();
    const client = connect();
    await once(client, "open");
    expect(client.transport.name).toBe("polling");
    const serverSocket = await connection;
    await Promise.all([once(client, "upgrade"), once(serverSocket, "upgrade")]);
    expect(client.transport.name).toBe("websocket");
    expect(serverSocket.transport.name).toBe("websocket");
    client.send("ping?");
    expect((await once<[string]>(client, "message"))[0]).toBe("ping?");
    client.send(new Uint8Array([9, 8, 7]));
    const [binary] = await once<[ArrayBuffer | Uint8Array]>(client, "message");
    expect([...new Uint8Array(binary as ArrayBuffer)]).toEqual([9, 8, 7]);
  });

  it("works with polling only and with websocket only", async () => {
    server = await startServer();
    server.engine.on("connection", (socket) => socket.on("message", (data: unknown) => socket.send(data as string)));
    for (const transports of [["polling"], ["websocket"]] as const) {
      const client = connect({ transports: [...transports] });
      await once(client, "open");
      expect(client.transport.name).toBe(transports[0]);
      client.send(`via ${transports[0]}`);
      expect((await once<[string]>(client, "message"))[0]).toBe(`via ${transports[0]}`);
    }
  });
});

describe("socket.io 4.8 bound to the cometa engine", () => {
  async function startSocketIo() {
    server = await startServer();
    const io = new IoServer();
    io.bind(server.engine as unknown as Parameters<IoServer["bind"]>[0]);
    io.on("connection", (socket) => {
      socket.on("hello", (who: string) => socket.emit("welcome", `hi ${who}`));
    });
    const connection = new Promise<string>((resolve) => io.once("connection", (socket) => resolve(socket.id)));
    return { io, connection };
  }

  it("fires `connection` and delivers emits both ways with engine.io-client speaking socket.io packets", async () => {
    const { connection } = await startSocketIo();
    const client = connect();
    await once(client, "open");
    // engine.io-client adds the engine.io `4` (message): on the wire these are `40`, `42[...]`.
    client.send("0");
    const [connected] = await once<[string]>(client, "message");
    expect(connected).toMatch(/^0\{"sid":"[^"]+"\}$/);
    expect(await connection).toBe(JSON.parse(connected.slice(1)).sid);
    client.send('2["hello","cometa"]');
    expect((await once<[string]>(client, "message"))[0]).toBe('2["welcome","hi cometa"]');
  });

  it("runs over a cometa transport (sse) too", async () => {
    const { connection } = await startSocketIo();
    const stream = new PacketStream(server!.endpoint("transport=sse"), new SseParser());
    const sid = sidOf(await stream.packet(0));
    const upstream = (body: string) => post(server!.endpoint(`transport=sse&sid=${sid}`), body);
    // Raw wire: engine.io `4` (message) + socket.io `0` (CONNECT) / `2` (EVENT).
    await upstream("40");
    expect(await stream.packet(1)).toMatch(/^40\{"sid":"[^"]+"\}$/);
    await connection;
    await upstream('42["hello","sse"]');
    expect(await stream.packet(2)).toBe('42["welcome","hi sse"]');
  });

  it("is still an engine.io Server subclass (what io.bind needs)", () => {
    expect(new Server()).toBeInstanceOf(Server);
  });
});
