/**
 * How a streaming transport lays packets out in its long response. Each streaming transport
 * (sse, xhr-streaming, iframe) is one of these plus a name; the response lifecycle is shared
 * (streaming.ts). See docs/wire.md for each format.
 */
import type { EngineRequest } from "../engine-internals.js";
import type { Refusal } from "../refusal.js";

/** Why a GET cannot open a stream: the server's one refusal shape. */
export type { Refusal };

export interface StreamFraming {
  /** Exact `Content-Type` of the stream. */
  readonly contentType: string;
  /** Headers besides Content-Type (cache, proxy buffering). */
  readonly headers: Readonly<Record<string, string>>;
  /** Checks a GET's parameters before anything is written; null when acceptable. */
  validate?(req: EngineRequest): Refusal | null;
  /**
   * Bytes after which a response is recycled unless the server's `recycleBytes` says otherwise:
   * what the client keeps of a response while reading it decides (see options.ts).
   */
  recycleBytes(req: EngineRequest): number;
  /** Start of the body: padding, then whatever the format needs first. */
  open(req: EngineRequest): string;
  /**
   * One whole frame for one payload: encoded engine.io packets (binary as `b` + base64) joined
   * by U+001E, as in a long-polling payload (`payloadSeparator`, src/wire.ts). `plain`: the GET
   * said its client reads plain frames (`plainFramesParam`); a framing may ignore it.
   */
  frame(payload: string, plain: boolean): string;
  /** What to write after `keepAliveInterval` of silence. */
  keepAlive(): string;
  /** Written just before the response ends (recycle, replacement, close). */
  end(): string;
}
