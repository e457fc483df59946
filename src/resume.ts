/**
 * Resumption (docs/wire.md, "Resumable sessions"), the piece a `BareSocket` gets as a value
 * (`resumption` in its options), as it gets transports, so a bundle without it does not carry
 * it: the offer in the handshake, the counts of the server's messages, the acknowledgements
 * and the client's messages written and not yet acknowledged, numbered, and, when the
 * transport of a resumable session breaks, the reattach.
 */
import {
  type CometaError,
  HeartbeatError,
  ProtocolError,
  refusedAsTooLarge,
  ResumeError,
  ServerError,
  TransportError,
  UsageError,
} from "./errors.js";
import type { SessionSettings, SocketOptions } from "./options.js";
import type { OpenData, Packet, ReceivedPacket } from "./protocol.js";
import { type Reattacher, startReattach } from "./reattach.js";
import { type Entry, type SendQueue, size } from "./send-queue.js";
import type { CloseReason } from "./socket.js";
import type { Transport, TransportDefinition } from "./transport.js";
import type { TransportMemory } from "./transport-memory.js";
import {
  ackParam,
  decodeResumeControl,
  encodeAck,
  encodeNext,
  reattachParam,
  readResumeTerms,
  resumeOfferParam,
  type ResumeTerms,
} from "./wire.js";

/** Milliseconds within which a received message is acknowledged when no GET carried the count. */
export const ackDelay = 200;

/** What the session lends its resumption: its parts, and the moves of its state it makes itself. */
export interface ResumeHost {
  settings: SessionSettings;
  queue: SendQueue;
  memory: TransportMemory;
  /** The transport in use. */
  transport(): Transport;
  /** A transport of this session (its URLs ask `query` for their parameters). */
  create(definition: TransportDefinition): Transport;
  fail(error: CometaError, reason: CloseReason): void;
  /** The transport in use broke: the session leaves it and is resuming. False when a `resuming` listener closed it. */
  detach(cause: CometaError): boolean;
  /** A reattach took: the session goes on over `transport`. */
  attach(transport: Transport): void;
}

/** A resumable session's side of resumption, for the session to call. */
export interface ResumeSession {
  /** Parameters of a URL: `reattach` while reattaching, else `ack` on a receiving GET of the transport in use. */
  query(receiving: boolean): Record<string, string | undefined>;
  /** A message arrived: whether to deliver it (false: a duplicate, dropped unseen). */
  receive(data: ReceivedPacket["data"]): boolean;
  /** A noop's data: acts on the control it may carry. */
  control(data: ReceivedPacket["data"]): void;
  /** The next write, from the queue: within `maxBytes` unacknowledged, after its `6a<N>` and `6s<S>`. */
  take(): Packet[];
  /** What goes before `5` on an upgrade: `6a<N>`. */
  before(): Packet[];
  /** Whether a transport may carry the session: not one that broke twice in it. */
  usable(name: string): boolean;
  /** Whether every message written was acknowledged. */
  settled(): boolean;
  /** The transport in use failed: true when the session resumes rather than closes. */
  broke(error: CometaError | undefined, reason: CloseReason): boolean;
  stop(): void;
}

/**
 * What `resumption` is: given the socket's `resume` option (not false), checked (UsageError),
 * what the session offers.
 */
export type Resumption = (option: true | { maxBytes?: number } | undefined) => ResumeOffer;

export interface ResumeOffer {
  /** The handshake's query parameters. */
  readonly query: Record<string, string>;
  /** The open packet arrived: the session's resumption, or undefined when the server granted none. */
  start(host: ResumeHost, open: OpenData): ResumeSession | undefined;
}

/**
 * A failure a resumable session survives by reattaching: the network's (a transport's error or
 * close, a missed heartbeat), not a refusal of the session or of a message, nor bad data.
 */
function survivable(error: CometaError | undefined): boolean {
  return (
    !error ||
    error instanceof HeartbeatError ||
    ((error instanceof TransportError || (error instanceof ServerError && error.code !== 1)) && !refusedAsTooLarge(error))
  );
}

/** Options with `resumption`, unless they name one: what `Socket` and the script-tag builds make. */
export const withResumption = <T extends SocketOptions>(options = {} as T): T =>
  options && typeof options === "object" && !options.resumption ? { ...options, resumption } : options;

export const resumption: Resumption = (option) => {
  const maxBytes = option && typeof option === "object" && option.maxBytes !== undefined ? option.maxBytes : 1e6;
  if (!(maxBytes > 0)) throw new UsageError("resume.maxBytes must be a positive number of bytes");
  return {
    query: { [resumeOfferParam]: "1" },
    start(host, open) {
      const terms = readResumeTerms(open);
      return terms && resume(host, open, terms, maxBytes);
    },
  };
};

/**
 * `maxBytes`: of written messages unacknowledged, past which writing waits for acknowledgements.
 * An acknowledgement of the server's messages is due `ackDelay` after one came, or at once when
 * a quarter of its `maxBytes` came unacknowledged (the server holds them until then, and past
 * `maxBytes` it ends the session): then the session is asked to write.
 */
function resume(host: ResumeHost, open: OpenData, terms: ResumeTerms, maxBytes: number): ResumeSession {
  const { settings, queue, memory } = host;
  const { env, definitions, probeTimeout, rememberUpgrade, trace } = settings;
  /** Breaks per transport name in this session: one that broke twice is not used again. */
  const broken: Record<string, number> = {};
  const usable = (name: string) => !(broken[name]! > 1);
  let reattacher: Reattacher | undefined;
  /** Set from the break to the resume: the URLs made meanwhile reattach. */
  let resuming = false;

  // the server's messages: delivered, of those told to the server, the number of the next it
  // sends, and bytes delivered since told
  let received = 0;
  let told = 0;
  let next = 1;
  let receivedBytes = 0;
  let ackTimer: unknown;
  /**
   * The acknowledgement is due (its delay passed, or enough came): it goes with the next write
   * whatever the transport. Before, only a write that carries it at no cost takes it along.
   */
  let ackDue = false;
  /** The transport the last `6s<S>` went on. */
  let numberedOn: Transport | undefined;
  /** The count, from now on known to the server. */
  const tell = () => {
    env.clearTimeout(ackTimer);
    ackTimer = undefined;
    ackDue = false;
    receivedBytes = 0;
    return (told = received);
  };
  const dueNow = () => {
    ackDue = true;
    queue.flush();
  };
  const ackPacket = (): Packet => ({ type: "noop", data: encodeAck(tell()) });

  // the client's messages: written and not acknowledged, in order, and their bytes; the number
  // of the last written, of the last that left `unacked`, and the highest acknowledged
  let unacked: Entry[] = [];
  let bytes = 0;
  let seq = 0;
  let done = 0;
  let acked = 0;
  /** The server delivered messages 1 to `count`: those written leave, in order, their callbacks run. */
  const ack = (count: number, later?: boolean): Entry[] => {
    if (count > acked) acked = count;
    let leaving = 0;
    while (leaving < unacked.length && done < acked) {
      bytes -= unacked[leaving++]!.bytes;
      done++;
    }
    const left = unacked.splice(0, leaving);
    if (!later) queue.done(left);
    return left;
  };
  // the messages of a write wait for the server's acknowledgement, unless the transport's drain
  // is it (an HTTP answer); those of a write cut by a break, always
  queue.hold = (entries) => {
    for (const entry of entries) {
      if (entry.data === undefined) continue;
      unacked.push(entry);
      bytes += entry.bytes;
    }
    ack(!resuming && host.transport().confirmsDelivery ? seq : 0);
  };

  return {
    query: (receiving) => ({ [resuming ? reattachParam : ackParam]: resuming || receiving ? String(tell()) : undefined }),
    receive(data) {
      // a message the server sends again after a switch of transport, already delivered
      if (next++ <= received) return false;
      received++;
      receivedBytes += data === undefined ? 0 : size(data);
      if (receivedBytes >= terms.maxBytes / 4) dueNow();
      else if (ackTimer === undefined) {
        ackTimer = env.setTimeout(() => {
          ackTimer = undefined;
          dueNow();
        }, ackDelay);
      }
      return true;
    },
    control(data) {
      const control = decodeResumeControl(data);
      if (!control) return;
      if (control.kind === "ack") {
        ack(control.count);
        return queue.flush();
      }
      next = control.seq;
      // a gap: the server skipped messages
      if (next > received + 1) host.fail(new ProtocolError(`the server's message ${next} came after its message ${received}`), "parse error");
    },
    take() {
      const packets = queue.take(maxBytes - bytes);
      const messages = packets.filter((packet) => packet.type === "message").length;
      const transport = host.transport();
      // An HTTP write carries both at no cost, and needs the number: a request can reach the
      // server after the transport it was sent on was replaced, and a message sent again after
      // a resume has the number it had, as `seq` went back with it. On WebSocket each is a
      // frame, and a frame cannot outlive its connection: the number goes on a new transport's
      // first write, from which the server counts on, and the acknowledgement once due.
      const framed = transport.name === "websocket";
      const prefix = received > told && (ackDue || !framed) ? [ackPacket()] : [];
      if (messages && (!framed || numberedOn !== transport)) {
        numberedOn = transport;
        prefix.push({ type: "noop", data: encodeNext(seq + 1) });
      }
      seq += messages;
      return prefix.concat(packets);
    },
    before: () => [ackPacket()],
    usable,
    settled: () => unacked.length === 0,
    broke(error, reason) {
      if (!survivable(error)) return false;
      const name = host.transport().name;
      const cause = error || new TransportError(`${name} closed`, name);
      broken[name] = (broken[name] || 0) + 1;
      // a transport that broke twice is not remembered: the next session starts the usual way
      if (!usable(name) && rememberUpgrade && memory.recall() === name) memory.forget();
      trace && trace("session", "resuming", { transport: name, reason, error: cause, breaks: broken[name] });
      resuming = true;
      // the write in flight is cut: its messages wait with the others
      queue.sent();
      if (!host.detach(cause)) return true;
      reattacher = startReattach({
        env,
        // the server answers a reattach at once: a try that takes a heartbeat period went into a
        // dead path, which the next try may avoid
        timeout: Math.min(probeTimeout, open.pingInterval + open.pingTimeout),
        window: terms.window,
        trace,
        next: () => {
          const supported = definitions.filter((definition) => definition.supported(env));
          // when every transport broke twice the network is at fault, not one transport: try them
          // all again, the window bounds the tries
          const usables = supported.filter((definition) => usable(definition.name));
          const pool = usables.length > 0 ? usables : supported;
          return pool.find((definition) => definition.name === "polling") || pool[0]!;
        },
        create: host.create,
        resumed: (transport, delivered) => {
          resuming = false;
          // the server sends again from the message after the count
          next = received + 1;
          // what the server did not deliver goes again first, with its numbers
          const left = ack(delivered, true);
          queue.requeue(unacked);
          unacked = [];
          bytes = 0;
          seq = done;
          numberedOn = undefined;
          trace && trace("session", "resumed", { transport: transport.name, acked: delivered });
          host.attach(transport);
          // the callbacks of what the server had delivered run once the session is whole again:
          // one may close it
          queue.done(left);
        },
        failed: (message) => host.fail(new ResumeError(message, { cause }), reason),
      });
      return true;
    },
    stop() {
      env.clearTimeout(ackTimer);
      if (reattacher) reattacher.cancel();
      queue.hold = undefined;
      // not delivered: the close hands them back, or the next session sends them, first
      queue.requeue(unacked);
    },
  };
}
