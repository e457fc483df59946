/**
 * The response lifecycle shared by the streaming transports (sse, xhr-streaming, iframe): one
 * long GET at a time carries packets down, framed by a `StreamFraming`; POSTs carry packets up
 * (http-transport.ts).
 *
 * - writable while a stream is open (and not backpressured); between streams packets wait in
 *   engine.io's socket buffer, exactly as between two polls.
 * - batched: what one turn of the event loop sends is written as one chunk of as few frames as
 *   possible, each carrying many packets (see scheduleWrite, writePending).
 * - recycled: after `recycleBytes` the response ends at a frame boundary; the client reopens a
 *   GET with the same sid and gets what waited.
 * - kept alive with the framing's keep-alive after `keepAliveInterval` of silence.
 */
import type { ServerResponse } from "node:http";
import { type Packet, encodePacket } from "engine.io-parser";
import { ENGINE_ERRORS, type EngineRequest, type TransportAdapter, type TransportHost } from "../engine-internals.js";
import { withNosniff } from "../http.js";
import { sendRefusal } from "../refusal.js";
import type { StreamFraming } from "./framing.js";
import {
  type Downstream,
  type HttpTransportParts,
  type HttpTransportSettings,
  type OrderlyClose,
  createHttpTransport,
} from "./http-transport.js";
import { PacketQueue } from "./packet-queue.js";
import { payloadSeparator, plainFramesParam } from "../../wire.js";

export interface StreamingSettings extends HttpTransportSettings {
  /**
   * Bytes after which a response is ended (at a frame boundary) and reopened by the client;
   * undefined: the framing's default for the GET.
   */
  readonly recycleBytes: number | undefined;
  /** Silence (ms) after which the framing's keep-alive is written; 0 disables. */
  readonly keepAliveInterval: number;
}

/** A streaming transport: engine.io's adapter over an HTTP transport whose GETs are streams. */
export type StreamingTransport = TransportAdapter<HttpTransportParts<StreamDownstream>>;

export function createStreamingTransport(
  req: EngineRequest,
  name: string,
  framing: StreamFraming,
  settings: StreamingSettings,
): StreamingTransport {
  return createHttpTransport(req, name, settings, (host, close) => new StreamDownstream(host, close, framing, settings));
}

/** The stream of `transport`, if it is a streaming transport. */
export function streamOf(transport: unknown): StreamDownstream | undefined {
  const downstream = (transport as { parts?: { downstream?: unknown } }).parts?.downstream;
  return downstream instanceof StreamDownstream ? downstream : undefined;
}

interface OpenStream {
  readonly res: ServerResponse;
  readonly onPrematureClose: () => void;
}

export class StreamDownstream implements Downstream {
  private stream: OpenStream | null = null;
  /** Bytes written to the current response (padding and keep-alives included). */
  private written = 0;
  /** Bytes after which the current response is recycled. */
  private recycleBytes = 0;
  /** The current GET's client reads plain frames (docs/wire.md). */
  private plainFrames = false;
  private keepAliveTimer: ReturnType<typeof setTimeout> | null = null;
  /**
   * Packets accepted but not written yet, and where each `send` ended (engine.io's socket
   * expects one `drain` per `send`): what the response pushed back on, and packets sent while
   * no stream can take them (engine.io's upgrade path writes `3probe` to a candidate whatever its
   * state, and the client's POST `2probe` may overtake its GET).
   */
  private pending = new PacketQueue();
  /** engine.io's socket is handing its buffer over (see {@link pull}): no write of its own. */
  private pulling = false;
  /** An upgrade candidate is not the session's transport yet: never write `1` on it. */
  private isCandidate = false;

  constructor(
    private readonly host: TransportHost,
    private readonly orderlyClose: OrderlyClose,
    private readonly framing: StreamFraming,
    private readonly settings: StreamingSettings,
  ) {}

  /** Called by the server when this transport is probed as an upgrade. */
  markAsCandidate(): void {
    this.isCandidate = true;
  }

  /** Called by the server when the upgrade to this transport completed. */
  adopt(): void {
    this.isCandidate = false;
  }

  send(packets: Packet[]): void {
    if (packets.length === 0) return;
    this.pending.push(packets);
    if (!this.pulling && this.stream && this.host.writable) this.scheduleWrite();
  }

  /**
   * Bytes this transport holds for its client: packets not written yet, and what the open
   * response has not handed to the connection (Node's `writableLength`).
   */
  get bufferedBytes(): number {
    return this.pending.byteLength + (this.stream?.res.writableLength ?? 0);
  }

  /**
   * Drops the open response and what it holds, for a session ended because its client does not
   * read: ending it gracefully would keep the unread bytes for as long as the connection lives.
   */
  destroyStream(): void {
    this.pending.clear();
    this.stream?.res.destroy();
  }

  /**
   * Gives back what waits unwritten, for a resumable session that sends it again itself (it
   * puts every unacknowledged message back in engine.io's buffer): its batches count as done.
   */
  takeBackPending(): Packet[] {
    const batches = this.pending.unfinishedBatches;
    const packets = this.pending.clear();
    for (let i = 0; i < batches; i++) this.host.drained();
    return packets;
  }

  /** With a stream open, the `1` goes out on it: not on a failed candidate, nor after an upgrade away. */
  closeNow(): boolean {
    if (!this.stream) return false;
    if (!this.host.discarded && !this.isCandidate) this.writeFrames([{ type: "close" }]);
    return true;
  }

  release(): void {
    this.pending.clear();
    this.endStream(true);
  }

  /**
   * A GET opens (or reopens, after a recycle or a cut) the stream.
   *
   * One stream at a time, as polling has one GET: a GET while the current stream is alive is
   * refused with 400 and ends the session, as engine.io answers an overlapping poll. The client
   * never overlaps: it reopens once the old response ended (a recycle: we ended it) or was torn
   * down (a proxy's cut, its own abort), and that connection's end reaches us before a request
   * sent after it. So the overlapping GET comes from someone else holding the sid; replacing the
   * stream would hand them the session's packets while the client's stream goes quiet, and
   * refusing without ending the session would let them take the stream at the next recycle.
   */
  onGet(req: EngineRequest, res: ServerResponse): void {
    // "closing" still takes a GET: it carries the orderly `1` (see OrderlyClose).
    if (this.host.readyState === "closed") {
      sendRefusal(res, { code: ENGINE_ERRORS.BAD_REQUEST });
      return;
    }
    const refused = this.framing.validate?.(req);
    if (refused) {
      sendRefusal(res, refused);
      return;
    }
    if (this.stream && isConnectionAlive(this.stream.res)) {
      sendRefusal(res, { code: ENGINE_ERRORS.BAD_REQUEST });
      this.host.fail("overlap from client");
      return;
    }
    // A stream whose connection is already ending (its close event not emitted yet) is gone.
    this.endStream(false);
    res.writeHead(
      200,
      this.host.headers(req, withNosniff({ "Content-Type": this.framing.contentType, ...this.framing.headers })),
    );
    // The client went away without the server ending the response: not fatal (it may reopen);
    // a client that never comes back misses its pongs and engine.io's heartbeat ends the session.
    const onPrematureClose = (): void => {
      if (this.stream?.res !== res) return;
      this.endStream(false);
      // A candidate whose stream the client dropped was given up (its probe timed out): close
      // it so engine.io's upgrade cleanup runs and the client's next candidate is not refused.
      if (this.isCandidate) this.host.closed();
    };
    res.on("close", onPrematureClose);
    this.stream = { res, onPrematureClose };
    this.written = 0;
    this.recycleBytes = this.settings.recycleBytes ?? this.framing.recycleBytes(req);
    this.plainFrames = req._query[plainFramesParam] === "1";
    this.writeChunk(this.framing.open(req));
    this.resume();
  }

  /** The open stream can take packets again: what waited here first, then the socket's buffer. */
  private resume(): void {
    if (!this.stream) return;
    this.host.writable = true;
    if (!this.writePending()) return;
    if (this.orderlyClose.waiting) {
      this.writeFrames([{ type: "close" }]);
      this.orderlyClose.finish();
      return;
    }
    this.pull();
  }

  /**
   * The first packets of a turn of the event loop: written on a microtask, together with every
   * packet sent until then, as one chunk (one `res.write`, one syscall) instead of one per
   * packet. Meanwhile `writable` is false, so engine.io keeps those packets in its own buffer
   * and hands them over as one batch: one `drain` for the lot, where a `send` per packet would
   * leave engine.io's socket one pending callback entry per packet to shift through.
   */
  private scheduleWrite(): void {
    this.host.writable = false;
    queueMicrotask(() => {
      // ended meanwhile (close, recycle, overlap): the next stream takes what waits
      if (!this.stream) return;
      this.host.writable = true;
      this.pull();
    });
  }

  /** Takes engine.io's buffer (its `ready` handler flushes it into `send`), then writes everything. */
  private pull(): void {
    this.pulling = true;
    try {
      this.host.ready();
    } finally {
      this.pulling = false;
    }
    this.writePending();
  }

  /**
   * Writes pending packets in order, as few chunks as possible: each chunk takes frames until it
   * reaches the response's high-water mark, so a burst never sits in the response's buffer past
   * what backpressure allows. Stops when the response pushes back (`write` returned false: the
   * rest waits here, as packets, for `drain`) or has carried `recycleBytes` (the rest waits for
   * the reopen GET; a batch's `drain` comes once its last frame was written, whichever response
   * carried it). True when everything went out and the stream takes more.
   */
  private writePending(): boolean {
    const stream = this.stream;
    if (!stream) return false;
    const limit = stream.res.writableHighWaterMark;
    while (this.stream === stream && this.host.writable && this.pending.size > 0) {
      // The payload is counted in UTF-16 units, a lower bound of its UTF-8 bytes and so of its
      // frame's (framing only escapes and adds): its UTF-8 bytes are counted once it could reach
      // what is left before `recycleBytes`, and then packet by packet.
      const untilRecycle = this.recycleBytes - this.written;
      let payload = "";
      let bytes = -1;
      let finished = 0;
      let full = false;
      let packet: Packet | undefined;
      while (!full && (packet = this.pending.shift())) {
        const encoded = encodeText(packet);
        payload = payload ? payload + payloadSeparator + encoded : encoded;
        if (this.pending.endOfBatch()) finished++;
        if (bytes >= 0) bytes += Buffer.byteLength(encoded) + 1;
        else if (payload.length * 3 >= untilRecycle) bytes = Buffer.byteLength(payload);
        full = payload.length >= limit || bytes >= untilRecycle;
      }
      const accepted = this.writeChunk(this.framing.frame(payload, this.plainFrames));
      // Recycled at a frame boundary, once the frames written reach `recycleBytes`: the rest (of
      // the batch too) waits for the reopen GET. The state is settled before `drain`, whose
      // send callbacks may send again at once.
      if (this.written >= this.recycleBytes) this.endStream(true);
      else if (!accepted) {
        this.host.writable = false;
        stream.res.once("drain", () => {
          if (this.stream === stream) this.resume();
        });
      }
      // Only now are these batches in the response's hands: send callbacks may pace on this.
      for (let i = 0; i < finished; i++) this.host.drained();
    }
    return this.stream === stream && this.host.writable;
  }

  /**
   * The last frames of a stream (`1`): written after whatever is pending, whatever the
   * backpressure, since the response ends right after them; a frame holds at most about the
   * response's high-water mark, as in {@link writePending}. False when the response asked to wait.
   */
  private writeFrames(packets: readonly Packet[]): boolean {
    const limit = this.stream?.res.writableHighWaterMark ?? Infinity;
    let chunk = "";
    let payload = "";
    for (const packet of [...this.pending.clear(), ...packets]) {
      const encoded = encodeText(packet);
      if (payload && payload.length + encoded.length >= limit) {
        chunk += this.framing.frame(payload, this.plainFrames);
        payload = "";
      }
      payload = payload ? payload + payloadSeparator + encoded : encoded;
    }
    return this.writeChunk(chunk + this.framing.frame(payload, this.plainFrames));
  }

  private writeChunk(chunk: string): boolean {
    const stream = this.stream;
    if (!stream) return false;
    this.written += Buffer.byteLength(chunk);
    const accepted = stream.res.write(chunk);
    this.armKeepAlive();
    return accepted;
  }

  private armKeepAlive(): void {
    // the same stream's timer restarts (cheaper than a new one for every chunk)
    if (this.keepAliveTimer) {
      this.keepAliveTimer.refresh();
      return;
    }
    if (this.settings.keepAliveInterval <= 0 || !this.stream) return;
    const stream = this.stream;
    this.keepAliveTimer = setTimeout(() => {
      this.keepAliveTimer = null;
      // Bytes still waiting to leave are traffic enough; a keep-alive would only add to them.
      if (stream.res.writableNeedDrain) this.armKeepAlive();
      else this.writeChunk(this.framing.keepAlive());
    }, this.settings.keepAliveInterval);
  }

  /** Detaches the current response; `gracefully`: finish the document and end it. */
  private endStream(gracefully: boolean): void {
    const stream = this.stream;
    if (!stream) return;
    this.stream = null;
    this.host.writable = false;
    if (this.keepAliveTimer) clearTimeout(this.keepAliveTimer);
    this.keepAliveTimer = null;
    stream.res.off("close", stream.onPrematureClose);
    if (gracefully && !stream.res.writableEnded) stream.res.end(this.framing.end());
  }

}

/** A packet as cometa's streams carry it: text, binary as `b` + base64. */
function encodeText(packet: Packet): string {
  let text = "";
  encodePacket(packet, false, (encoded) => {
    text = encoded as string;
  });
  return text;
}

/** False once the client's side of the connection ended or it was torn down. */
function isConnectionAlive(res: ServerResponse): boolean {
  const socket = res.socket;
  return socket !== null && !socket.destroyed && !socket.readableEnded && socket.writable;
}
