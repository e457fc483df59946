/**
 * A fault-injecting TCP proxy on an ephemeral loopback port, in front of a server whose port
 * may change (`target`), so a restarted server keeps the address clients know.
 *
 * Faults, all deterministic and bounded:
 * - `cut()`: destroys every open connection now (a network cut, a crashed middlebox).
 * - `refuse()` / `accept()`: new connections are destroyed at once, or taken again (an outage).
 * - `stall(direction)`: the connections open now stop forwarding one or both ways and keep
 *   their sockets open, FIN and RST included (a black hole: a NAT that forgot the flow).
 *   New connections are not affected.
 * - `blackHole()` / `restore({ reset })`: open and new connections all stall, until new ones
 *   flow again; the old ones are then reset or left silent.
 * - `delay(ms)`: every chunk waits `ms` before being forwarded, order kept.
 * - `dropAfter(bytes)`: each new connection is destroyed once that many bytes went through,
 *   both ways counted.
 * - `when(match, fault)`: a fault for the connections whose first request matches.
 * Counters: `open` connections now, `accepted` in all.
 */
import { EventEmitter } from "node:events";
import { createConnection, createServer, type Server, type Socket } from "node:net";

export type Direction = "up" | "down" | "both";

export interface ConnectionFault {
  /** Stop forwarding this way from the start. */
  stall?: Direction;
  /** Forward the server's response headers (up to the first blank line), then stall downstream. */
  stallDownAfterHeaders?: boolean;
  /** Destroy the connection after this many bytes, both ways counted. */
  dropAfter?: number;
}

/** One direction of one connection. */
class Pipe {
  stalled = false;
  /** Chunks (and the end, as null) held while stalled or delayed. */
  private held: (Buffer | null)[] = [];
  private releaseAt = 0;
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private headerBytes: Buffer | undefined;

  constructor(
    private readonly to: Socket,
    private readonly link: Link,
  ) {}

  /** Stall once the response headers went through. */
  stallAfterHeaders() {
    this.headerBytes = Buffer.alloc(0);
  }

  push(chunk: Buffer | null) {
    if (chunk && this.headerBytes) {
      const seen = Buffer.concat([this.headerBytes, chunk]);
      const end = seen.indexOf("\r\n\r\n");
      if (end < 0) this.headerBytes = seen;
      else {
        const pass = end + 4 - this.headerBytes.length;
        this.headerBytes = undefined;
        this.push(chunk.subarray(0, pass));
        this.stalled = true;
        this.held.push(chunk.subarray(pass));
        return;
      }
    }
    if (this.stalled) return void this.held.push(chunk);
    const delay = this.link.proxy.delayMs;
    if (delay <= 0 && this.timers.size === 0) return this.forward(chunk);
    // in order: a chunk never overtakes the one before it
    this.releaseAt = Math.max(Date.now() + delay, this.releaseAt);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.forward(chunk);
    }, this.releaseAt - Date.now());
    this.timers.add(timer);
  }

  resume() {
    this.stalled = false;
    for (const chunk of this.held.splice(0)) this.push(chunk);
  }

  dispose() {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.held = [];
  }

  private forward(chunk: Buffer | null) {
    if (this.to.destroyed) return;
    if (chunk === null) return void this.to.end();
    const allowed = this.link.budget(chunk.length);
    if (allowed < chunk.length) {
      if (allowed > 0) this.to.write(chunk.subarray(0, allowed));
      // let the bytes go out before the connection goes away
      this.to.end(() => this.link.destroy());
      return;
    }
    this.to.write(chunk);
  }
}

/** One client connection and its upstream connection. */
class Link {
  readonly up: Pipe;
  readonly down: Pipe;
  private destroyed = false;
  private forwarded = 0;
  private head: Buffer | undefined = Buffer.alloc(0);
  /** The start of the first request, once read (only while rules are set). */
  requestHead = "";
  private fault: ConnectionFault = {};

  constructor(
    readonly proxy: FaultProxy,
    readonly client: Socket,
    readonly server: Socket,
  ) {
    this.up = new Pipe(server, this);
    this.down = new Pipe(client, this);
    this.fault.dropAfter = proxy.dropAfterBytes;
    client.on("data", (chunk: Buffer) => this.fromClient(chunk));
    server.on("data", (chunk: Buffer) => this.down.push(chunk));
    client.on("end", () => this.up.push(null));
    server.on("end", () => this.down.push(null));
    // an orderly end travels as an `end` above, in order with the data; an error or reset on
    // one side is passed on to the other unless that way is stalled (a black hole passes nothing)
    client.on("close", (hadError) => this.closed(hadError, this.up));
    server.on("close", (hadError) => this.closed(hadError, this.down));
    client.on("error", () => {});
    server.on("error", () => {});
  }

  /** How many of `length` bytes may still go through before dropAfter. */
  budget(length: number): number {
    const limit = this.fault.dropAfter;
    if (limit === undefined) return length;
    const allowed = Math.max(0, Math.min(length, limit - this.forwarded));
    this.forwarded += allowed;
    return allowed;
  }

  private closed(hadError: boolean, onward: Pipe) {
    if (this.client.destroyed && this.server.destroyed) this.destroy();
    else if (hadError && !onward.stalled) this.destroy();
  }

  stall(direction: Direction) {
    if (direction !== "down") this.up.stalled = true;
    if (direction !== "up") this.down.stalled = true;
  }

  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    this.up.dispose();
    this.down.dispose();
    this.client.destroy();
    this.server.destroy();
    this.proxy.release(this);
  }

  private fromClient(chunk: Buffer) {
    if (this.head && this.proxy.rules.length === 0) this.head = undefined;
    if (this.head) {
      // the first request's head picks the connection's fault
      this.head = Buffer.concat([this.head, chunk]);
      const text = this.head.toString("latin1");
      if (!text.includes("\r\n\r\n") && this.head.length < 8192) return;
      this.head = undefined;
      this.requestHead = text;
      const rule = this.proxy.rules.find((entry) => entry.match(text));
      if (rule) {
        this.fault = { dropAfter: this.fault.dropAfter, ...rule.fault };
        if (rule.fault.stall) this.stall(rule.fault.stall);
        if (rule.fault.stallDownAfterHeaders) this.down.stallAfterHeaders();
      }
      return this.up.push(Buffer.from(text, "latin1"));
    }
    this.up.push(chunk);
  }
}

export class FaultProxy extends EventEmitter {
  /** The upstream port; changing it affects new connections only. */
  target: number;
  delayMs = 0;
  dropAfterBytes: number | undefined;
  readonly rules: { match: (head: string) => boolean; fault: ConnectionFault }[] = [];
  /** Connections accepted in all. */
  accepted = 0;
  private readonly links = new Set<Link>();
  private refusing = false;
  /** New connections are stalled both ways from the start (see `blackHole`). */
  private stallingNew = false;
  private server: Server | undefined;
  port = 0;

  constructor(target: number) {
    super();
    this.target = target;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Connections open now. */
  get open(): number {
    return this.links.size;
  }

  async listen(): Promise<this> {
    // half-open allowed, so a FIN is passed on (or held, when stalled) rather than answered
    this.server = createServer({ allowHalfOpen: true }, (client) => this.connect(client));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** Connections open now whose first request head (read while rules are set) matches. */
  openMatching(match: (head: string) => boolean): number {
    return [...this.links].filter((link) => match(link.requestHead)).length;
  }

  cut(): void {
    for (const link of [...this.links]) link.destroy();
  }

  refuse(): void {
    this.refusing = true;
  }

  accept(): void {
    this.refusing = false;
  }

  /** A network outage: every connection cut, new ones refused until `up()`. */
  down(): void {
    this.refuse();
    this.cut();
  }

  up(): void {
    this.accept();
  }

  stall(direction: Direction = "both"): void {
    for (const link of this.links) link.stall(direction);
  }

  /**
   * The whole path goes silent: open connections and new ones (accepted, then nothing passes
   * either way), as when a link or a NAT drops every packet.
   */
  blackHole(): void {
    this.stallingNew = true;
    this.stall("both");
  }

  /**
   * The path works again for new connections. With `reset`, the connections from before are
   * reset (as a NAT that forgot them answers their next packet); without, they stay silent.
   */
  restore({ reset }: { reset: boolean }): void {
    this.stallingNew = false;
    if (reset) this.cut();
  }

  /** Forwards what stalled connections held, and goes on forwarding. */
  resume(): void {
    for (const link of this.links) {
      link.up.resume();
      link.down.resume();
    }
  }

  delay(ms: number): void {
    this.delayMs = ms;
  }

  dropAfter(bytes: number | undefined): void {
    this.dropAfterBytes = bytes;
  }

  /** Applies `fault` to new connections whose first request head matches; returns the remover. */
  when(match: (head: string) => boolean, fault: ConnectionFault): () => void {
    const rule = { match, fault };
    this.rules.push(rule);
    return () => {
      const index = this.rules.indexOf(rule);
      if (index >= 0) this.rules.splice(index, 1);
    };
  }

  /** Resolves when at most `count` connections are open; rejects after `timeoutMs`. */
  openAtMost(count: number, timeoutMs = 5000): Promise<void> {
    if (this.open <= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.open > count) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.open} connections still open at the proxy after ${timeoutMs} ms (wanted <= ${count})`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.off("release", check);
      };
      this.on("release", check);
    });
  }

  /** Cuts everything and stops listening. */
  async close(): Promise<void> {
    this.cut();
    if (!this.server) return;
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  /** @internal */
  release(link: Link): void {
    if (this.links.delete(link)) this.emit("release");
  }

  private connect(client: Socket) {
    this.accepted++;
    if (this.refusing) {
      client.on("error", () => {});
      client.resetAndDestroy();
      return;
    }
    const server = createConnection({ port: this.target, host: "127.0.0.1", allowHalfOpen: true });
    const link = new Link(this, client, server);
    if (this.stallingNew) link.stall("both");
    this.links.add(link);
    this.emit("connection");
  }
}

export async function startFaultProxy(target: number | string): Promise<FaultProxy> {
  const port = typeof target === "string" ? Number(new URL(target).port) : target;
  return new FaultProxy(port).listen();
}
