/**
 * A resumable session's side of the server's messages (docs/wire.md, "Resumable sessions"):
 * how many were delivered, how many of those the server was told of, which are duplicates to
 * drop after a `6s<S>`, and when an acknowledgement is due. The client's own messages are
 * numbered by the send queue, which holds them until they are acknowledged.
 */
import type { Environment } from "./env.js";
import type { Packet, ReceivedPacket } from "./protocol.js";
import { size } from "./send-queue.js";
import { encodeAck, encodeNext, type ResumeTerms } from "./wire.js";

/** Milliseconds within which a received message is acknowledged when no GET carried the count. */
export const ackDelay = 200;

export interface Resumption {
  /** What the server granted in the open packet. */
  readonly terms: ResumeTerms;
  /** The server's messages delivered to the application in this session. */
  readonly received: number;
  /** A message arrived: whether to deliver it (false: a duplicate, dropped unseen). */
  receive(data: ReceivedPacket["data"]): boolean;
  /** The server's `6s<S>`: false when S skips messages, a gap that ends the session. */
  next(seq: number): boolean;
  /** The count, from now on known to the server: it goes in an `ack` or `reattach` parameter. */
  tell(): number;
  /** `6a<N>` with the count, told. */
  ack(): Packet;
  /**
   * The control packets a write starts with: `6a<N>` when an acknowledgement is due, and
   * `6s<first>` when it carries messages, numbered from `first` (0: it carries none).
   */
  prefix(first: number): Packet[];
  /** The session is on a new transport: the server sends again from the message after the count. */
  restart(): void;
  stop(): void;
}

/**
 * `due` asks the session to write: an acknowledgement is due, `ackDelay` after a message came
 * or at once when a quarter of the server's `maxBytes` came unacknowledged (the server holds
 * them until then, and past `maxBytes` it ends the session).
 */
export function createResumption(env: Environment, terms: ResumeTerms, due: () => void): Resumption {
  let received = 0;
  let told = 0;
  /** The number of the next message the server sends. */
  let next = 1;
  let bytes = 0;
  let timer: unknown;

  const tell = () => {
    env.clearTimeout(timer);
    timer = undefined;
    bytes = 0;
    return (told = received);
  };
  const ack = (): Packet => ({ type: "noop", data: encodeAck(tell()) });

  return {
    terms,
    get received() {
      return received;
    },
    receive(data) {
      if (next++ <= received) return false;
      received++;
      bytes += data === undefined ? 0 : size(data);
      if (bytes >= terms.maxBytes / 4) due();
      else if (timer === undefined) {
        timer = env.setTimeout(() => {
          timer = undefined;
          due();
        }, ackDelay);
      }
      return true;
    },
    next(seq) {
      next = seq;
      return seq <= received + 1;
    },
    tell,
    ack,
    prefix(first) {
      const packets = received > told ? [ack()] : [];
      if (first) packets.push({ type: "noop", data: encodeNext(first) });
      return packets;
    },
    restart() {
      next = received + 1;
    },
    stop() {
      env.clearTimeout(timer);
    },
  };
}
