/**
 * How a resumable session that could not go on says so: the description of engine.io's `close`
 * event, handing back every message the client never acknowledged, in order.
 */
import type { Packet } from "engine.io-parser";

/** A message as the application sent it (a string or binary). */
export type UndeliveredMessage = Exclude<Packet["data"], undefined>;

/** The transport broke and no reattach came within the resume window. */
export class ResumeWindowError extends Error {
  override name = "ResumeWindowError";
  declare cause?: unknown;

  constructor(
    readonly window: number,
    /** Messages handed to a transport and never acknowledged, then messages never handed, in order. */
    readonly undelivered: readonly UndeliveredMessage[],
    cause: unknown,
  ) {
    super(`the transport broke and the client did not reattach within the resume window (${window} ms)`);
    this.cause = cause;
  }
}

/** The client left more than `maxBytes` of messages unacknowledged. */
export class ResumeBufferFullError extends Error {
  override name = "ResumeBufferFullError";
  declare cause?: unknown;

  constructor(
    readonly maxBytes: number,
    /** Bytes handed to a transport and not acknowledged when the session ended. */
    readonly heldBytes: number,
    /** Messages handed to a transport and never acknowledged, then messages never handed, in order. */
    readonly undelivered: readonly UndeliveredMessage[],
  ) {
    super(`the client left ${heldBytes} bytes of messages unacknowledged, more than resume.maxBytes (${maxBytes})`);
  }
}
