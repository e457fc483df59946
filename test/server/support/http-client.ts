/** A raw HTTP client for the wire tests: plain requests and incrementally read streams. */
import { type IncomingHttpHeaders, request } from "node:http";
import { onTestFinished } from "vitest";
import type { StreamParser } from "./framing.js";

export interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export function httpRequest(
  url: string,
  options: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? "GET", headers: options.headers, agent: false }, (res) => {
      res.setEncoding("utf8");
      let body = "";
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

export function post(url: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return httpRequest(url, { method: "POST", body, headers: { "Content-Type": "text/plain;charset=UTF-8", ...headers } });
}

/** A long GET whose packets are parsed as they arrive; destroyed when the test that opened it ends. */
export class PacketStream {
  readonly packets: string[] = [];
  raw = "";
  status = 0;
  headers: IncomingHttpHeaders = {};
  error: Error | undefined;
  readonly ended: Promise<void>;
  readonly opened: Promise<void>;
  private waiters: { count: number; resolve: () => void }[] = [];
  private destroyRequest: () => void = () => {};

  constructor(url: string, readonly parser: StreamParser, headers: Record<string, string> = {}) {
    let markOpened: () => void = () => {};
    this.opened = new Promise((resolve) => (markOpened = resolve));
    this.ended = new Promise((resolve) => {
      const req = request(url, { headers, agent: false }, (res) => {
        this.status = res.statusCode ?? 0;
        this.headers = res.headers;
        markOpened();
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          this.raw += chunk;
          this.packets.push(...this.parser.push(chunk));
          this.wake();
        });
        res.on("end", () => resolve());
        res.on("close", () => resolve());
        // A destroyed or cut response just ends the stream for the test's purposes.
        res.on("error", (error) => {
          this.error = error;
          resolve();
        });
      });
      req.on("error", (error) => {
        this.error = error;
        markOpened();
        resolve();
      });
      req.end();
      this.destroyRequest = () => req.destroy();
    });
    // the client gives up on the stream when the test that opened it ends, before its server closes
    onTestFinished(() => this.destroy());
  }

  /** Resolves once at least `count` packets have arrived in total. */
  waitFor(count: number): Promise<string[]> {
    return new Promise((resolve) => {
      const check = (): void => resolve(this.packets.slice(0, count));
      if (this.packets.length >= count) check();
      else this.waiters.push({ count, resolve: check });
    });
  }

  /** The next packet after the ones already consumed by index. */
  async packet(index: number): Promise<string> {
    const packets = await this.waitFor(index + 1);
    return packets[index]!;
  }

  /** The client gives up on the response. */
  destroy(): void {
    this.destroyRequest();
  }

  private wake(): void {
    this.waiters = this.waiters.filter((waiter) => {
      if (this.packets.length < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  }
}

/** Splits a polling payload. */
export function splitPayload(body: string): string[] {
  return body.split("\x1e");
}

/** The sid of an open packet. */
export function sidOf(openPacket: string): string {
  if (!openPacket.startsWith("0")) throw new Error(`not an open packet: ${openPacket}`);
  return (JSON.parse(openPacket.slice(1)) as { sid: string }).sid;
}
