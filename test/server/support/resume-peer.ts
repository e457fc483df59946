/**
 * A resumable session driven by hand over the wire (docs/wire.md, "Resumable sessions"): raw
 * polling GETs and POSTs, raw WebSocket frames, so the server is tested without the client.
 */
import type { Socket as EngineSocket } from "engine.io";
import { onTestFinished } from "vitest";
import WebSocket from "ws";
import { type Response, httpRequest, post, splitPayload } from "./http-client.js";
import type { TestServer } from "../../support/server.js";
import { once } from "../../support/events.js";

/** One WebSocket, its text frames kept in arrival order and taken by `take`. */
export class WsPeer {
  readonly ws: WebSocket;
  readonly frames: string[] = [];
  readonly opened: Promise<void>;
  /** Resolves with the status of a refused handshake, or 101 once open. */
  readonly status: Promise<number>;
  private cursor = 0;
  private waiters: (() => void)[] = [];

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on("message", (data) => {
      this.frames.push(String(data));
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.ws.on("error", () => {
      // a refused handshake or a cut: the test looks at status and frames
    });
    this.status = new Promise((resolve) => {
      this.ws.once("open", () => resolve(101));
      this.ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    });
    this.opened = this.status.then(() => undefined);
    onTestFinished(() => this.ws.terminate());
  }

  /** The next `count` frames not taken yet. */
  async take(count: number): Promise<string[]> {
    while (this.frames.length < this.cursor + count) await new Promise<void>((resolve) => this.waiters.push(resolve));
    const taken = this.frames.slice(this.cursor, this.cursor + count);
    this.cursor += count;
    return taken;
  }

  send(...frames: string[]): void {
    for (const frame of frames) this.ws.send(frame);
  }
}

export interface Session {
  readonly sid: string;
  readonly open: Record<string, unknown>;
  readonly socket: EngineSocket;
  /** The endpoint with this session's sid and `query`. */
  url(query: string): string;
  /** The same as a WebSocket URL. */
  wsUrl(query: string): string;
  /** A polling GET (`query` added), its packets. */
  poll(query?: string): Promise<string[]>;
  /** A reattach on polling (`reattach=count`), its packets. */
  reattachPoll(count: number): Promise<string[]>;
  /** A polling POST of `packets`, its response. */
  send(...packets: string[]): Promise<Response>;
  /** Opens a WebSocket on the session and completes the upgrade, saying `6a<ack>` before `5`. */
  upgrade(ack: number): Promise<WsPeer>;
}

/** A polling handshake that offers resumption (`resume=1`), unless `query` says otherwise. */
export async function openSession(server: TestServer, query = "resume=1"): Promise<Session> {
  const connection = server.nextConnection();
  const handshake = await httpRequest(server.endpoint(`transport=polling&${query}`));
  const open = JSON.parse(handshake.body.slice(1)) as Record<string, unknown>;
  const sid = open.sid as string;
  const socket = await connection;
  const url = (q: string) => server.endpoint(`sid=${encodeURIComponent(sid)}&${q}`);
  const wsUrl = (q: string) => url(q).replace(/^http/, "ws");
  return {
    sid,
    open,
    socket,
    url,
    wsUrl,
    poll: async (q = "") => splitPayload((await httpRequest(url(`transport=polling${q}`))).body),
    reattachPoll: async (count) => splitPayload((await httpRequest(url(`transport=polling&reattach=${count}`))).body),
    send: (...packets) => post(url("transport=polling"), packets.join("\x1e")),
    upgrade: async (ack) => {
      const peer = new WsPeer(wsUrl("transport=websocket"));
      await peer.opened;
      peer.send("2probe");
      if ((await peer.take(1))[0] !== "3probe") throw new Error("no probe answer");
      const upgraded = once(socket, "upgrade");
      peer.send(`6a${ack}`, "5");
      await upgraded;
      return peer;
    },
  };
}

/** The messages (`4…`) of a list of packets, their data. */
export const messagesIn = (packets: readonly string[]): string[] => packets.filter((p) => p.startsWith("4")).map((p) => p.slice(1));
