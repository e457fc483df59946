/**
 * What a socket holds that is not known to be delivered: the messages written and the control
 * packets (pong, close) among them, in order, with the write in flight (on a resumable session,
 * src/resume.ts holds the messages written until the server acknowledges them). A plain Socket holds
 * what it is given (`SendQueue`); a ReconnectingSocket makes one `BoundedSendQueue`, bounded in
 * messages and bytes by a running count, and hands it to each of its sessions: what a lost
 * session did not deliver is still there, in order, for the next one.
 */
import { UsageError } from "./errors.js";
import { isBinary, type MessageData, type Packet, separator, utf8Length } from "./protocol.js";

export interface QueueLimits {
  maxMessages: number;
  /** Strings counted as UTF-8. */
  maxBytes: number;
}

export interface Entry {
  packet: Packet;
  /** The caller's data, kept for `unsent` (a Blob stays a Blob); absent on control packets. */
  data?: MessageData;
  bytes: number;
  callback?: () => void;
  /** A Blob being read: it and what follows wait until it is bytes. */
  reading?: boolean;
  /** Why the Blob could not be read. */
  unreadable?: unknown;
  /**
   * It can never be sent (a Blob that could not be read, a message the server refused as too
   * large): when its session ends it leaves the queue and goes back to the application, rather
   * than fail every session after it.
   */
  refused?: boolean;
}

function isBlob(data: unknown): data is Blob {
  return typeof Blob !== "undefined" && data instanceof Blob;
}

/** Throws UsageError for what cannot be sent as a message. */
function check(data: MessageData): void {
  if (typeof data !== "string" && !isBinary(data) && !isBlob(data)) {
    throw new UsageError("a message must be a string, ArrayBuffer, typed array or Blob");
  }
  if (typeof data === "string" && data.includes(separator)) {
    // engine.io v4 joins polling payloads with U+001E and stock servers split on it: such a
    // string would arrive cut in two, so it is refused rather than corrupted
    throw new UsageError("a message cannot contain U+001E (engine.io's payload separator)");
  }
}

/** Bytes of a message before encoding: what it takes at least on any transport. */
export function size(data: MessageData): number {
  return typeof data === "string" ? utf8Length(data) : isBlob(data) ? data.size : data.byteLength;
}

export class SendQueue {
  /**
   * Asks the session holding the queue to send what it can: called when a Blob has been read
   * (or could not be), by a ReconnectingSocket after it added a message, and by resumption
   * when an acknowledgement came or is due.
   */
  flush: () => void = () => {};
  /**
   * Set by a resumable session: the entries of each write that is over go to it, to wait for
   * the server's acknowledgement, instead of leaving the queue.
   */
  hold: ((entries: Entry[]) => void) | undefined;
  protected _waiting: Entry[] = [];
  protected _inFlight: Entry[] = [];

  /** Entries waiting, not counting the write in flight. */
  get waiting(): number {
    return this._waiting.length;
  }

  /** Whether a write is on its way and not yet confirmed by the transport's drain. */
  get busy(): boolean {
    return this._inFlight.length > 0;
  }

  /** Adds a message. Throws UsageError for what is not one. */
  add(data: MessageData, callback?: () => void, bytes = 0): void {
    check(data);
    if (callback !== undefined && typeof callback !== "function") throw new UsageError("callback must be a function");
    const entry: Entry = { packet: { type: "message" }, data, bytes, callback };
    if (isBlob(data)) {
      entry.reading = true;
      data.arrayBuffer().then(
        (buffer) => {
          entry.packet.data = buffer;
          entry.reading = false;
          this.flush();
        },
        (cause: unknown) => {
          entry.unreadable = cause;
          this.flush();
        },
      );
    } else entry.packet.data = data;
    this._waiting.push(entry);
  }

  /** A control packet (pong, close): outside any bounds, and dropped when its session ends. */
  control(packet: Packet): void {
    this._waiting.push({ packet, bytes: 0 });
  }

  /**
   * Takes what can go now, in order, and marks it in flight: nothing while a write is in
   * flight, nothing past a Blob still being read, and no message once `maxBytes` of messages
   * are taken (a resumable session's flow control). Throws UsageError when the next message is
   * a Blob that could not be read; that Blob is refused (see `release`).
   */
  take(maxBytes = Infinity): Packet[] {
    if (this._inFlight.length > 0) return [];
    const waiting = this._waiting;
    let bytes = 0;
    let count = 0;
    for (let entry; (entry = waiting[count]) && !entry.reading; count++) {
      if (entry.data === undefined) continue;
      if (bytes >= maxBytes) break;
      // measured only when bounded: a plain session never pays for it
      if (maxBytes < Infinity) bytes += entry.bytes || (entry.bytes = size(entry.data));
    }
    const stuck = waiting[count];
    if (count === 0 && stuck && stuck.unreadable !== undefined) {
      stuck.refused = true;
      throw new UsageError("could not read the Blob being sent", { cause: stuck.unreadable });
    }
    this._inFlight = waiting.splice(0, count);
    return this._inFlight.map((entry) => entry.packet);
  }

  /**
   * The write in flight is over (it reached the network, or its transport is gone): it is
   * delivered, unless `hold` takes it. Returns its packets.
   */
  sent(): Packet[] {
    const sent = this._inFlight;
    this._inFlight = [];
    if (this.hold) this.hold(sent);
    else this.done(sent);
    return sent.map((entry) => entry.packet);
  }

  /** Delivered: the entries leave the queue, and their callbacks run. */
  done(entries: Entry[]): void {
    this._left(entries);
    for (const entry of entries) if (entry.callback) entry.callback();
  }

  /** Messages to send again: they go first, in order, then the messages of the write in flight. */
  requeue(messages: Entry[]): void {
    this._waiting = messages.concat(this._inFlight.filter((entry) => entry.data !== undefined), this._waiting);
    this._inFlight = [];
  }

  /**
   * The server refused the write in flight as too large (HTTP 413, over its maxPayload): its
   * messages larger than `maxPayload` on their own are refused (see `release`). When none is,
   * the server's limit is not the one it announced, and every message of the write is refused:
   * handed back, which is better than refused again by every session.
   */
  refuseTooLarge(maxPayload: number): void {
    const messages = this._inFlight.filter((entry) => entry.data !== undefined);
    const over = messages.filter((entry) => size(entry.data!) > maxPayload);
    for (const entry of over.length > 0 ? over : messages) entry.refused = true;
  }

  /**
   * The session that held the queue ended: what it did not deliver (in flight, waiting) is kept
   * in order for the next session; control packets are dropped.
   * The messages refused leave the queue, so the next session sends what follows them; returns
   * those, oldest first.
   */
  release(): MessageData[] {
    const held = this._end();
    const refused = held.filter((entry) => entry.refused);
    this._waiting = held.filter((entry) => !entry.refused);
    this._left(refused);
    return refused.map((entry) => entry.data!);
  }

  /** Empties the queue; returns the messages it held, refused or not, oldest first. */
  clear(): MessageData[] {
    const held = this._end();
    this._left(held);
    return held.map((entry) => entry.data!);
  }

  /** Entries that left the queue. */
  protected _left(_entries: Entry[]): void {}

  /** Every message held, in order, taken out of the queue; control packets are dropped. */
  private _end(): Entry[] {
    const held = [...this._inFlight, ...this._waiting].filter((entry) => entry.data !== undefined);
    this._inFlight = [];
    this._waiting = [];
    return held;
  }
}

/**
 * A queue bounded in messages and bytes, counted as they come and go so that a fit check costs
 * the same however much is held. Control packets do not count.
 */
export class BoundedSendQueue extends SendQueue {
  private _messages = 0;
  private _bytes = 0;

  constructor(private readonly _limits: QueueLimits) {
    super();
  }

  /** What `data` counts against `maxBytes`. Throws UsageError for what is not a message. */
  measure(data: MessageData): number {
    check(data);
    return size(data);
  }

  /** Whether one more message of `bytes` stays within the bounds. */
  fits(bytes: number): boolean {
    return this._messages < this._limits.maxMessages && this._bytes + bytes <= this._limits.maxBytes;
  }

  /** Adds a message (the bounds are the caller's to check with `fits` first). */
  override add(data: MessageData, callback?: () => void, bytes = this.measure(data)): void {
    super.add(data, callback, bytes);
    this._messages++;
    this._bytes += bytes;
  }

  protected override _left(entries: Entry[]): void {
    for (const entry of entries) {
      if (entry.data === undefined) continue;
      this._messages--;
      this._bytes -= entry.bytes;
    }
  }
}
