/**
 * Packets a stream accepted but has not written yet, in order, remembering where each `send`
 * ended: engine.io's socket expects one `drain` per `send`, once that batch was written.
 *
 * An index walks the array instead of `shift()`: a burst of tens of thousands of packets would
 * otherwise move the whole array for every packet taken (V8 cannot trim large arrays in place).
 */
import type { Packet } from "engine.io-parser";

/** Taken packets kept in front before the arrays are compacted. */
const COMPACT_AFTER = 1024;

export class PacketQueue {
  private packets: Packet[] = [];
  /** Each packet's {@link packetBytes}, measured once. */
  private sizes: number[] = [];
  private head = 0;
  /** For each batch not finished yet, the index just past its last packet. */
  private ends: number[] = [];
  private endsHead = 0;
  private bytes = 0;

  /** Packets waiting. */
  get size(): number {
    return this.packets.length - this.head;
  }

  /** Bytes of the waiting packets' data (see {@link packetBytes}). */
  get byteLength(): number {
    return this.bytes;
  }

  /** Batches not wholly taken yet (each is owed its `drain`). */
  get unfinishedBatches(): number {
    return this.ends.length - this.endsHead;
  }

  /** Adds one `send`'s packets (never empty: an empty batch would never end). */
  push(batch: readonly Packet[]): void {
    for (const packet of batch) {
      const size = packetBytes(packet);
      this.packets.push(packet);
      this.sizes.push(size);
      this.bytes += size;
    }
    this.ends.push(this.packets.length);
  }

  /** The oldest waiting packet, taken out; undefined when empty. */
  shift(): Packet | undefined {
    if (this.head === this.packets.length) return undefined;
    this.bytes -= this.sizes[this.head];
    return this.packets[this.head++];
  }

  /** True (once) when the packets taken so far end the oldest unfinished batch. */
  endOfBatch(): boolean {
    if (this.endsHead === this.ends.length || this.ends[this.endsHead] !== this.head) return false;
    this.endsHead++;
    this.compact();
    return true;
  }

  /** Takes every waiting packet at once (the stream ends right after writing them). */
  clear(): Packet[] {
    const rest = this.packets.slice(this.head);
    this.packets = [];
    this.sizes = [];
    this.ends = [];
    this.head = this.endsHead = this.bytes = 0;
    return rest;
  }

  private compact(): void {
    if (this.head === this.packets.length) {
      this.packets = [];
      this.sizes = [];
      this.ends = [];
      this.head = this.endsHead = 0;
    } else if (this.head > COMPACT_AFTER && this.head * 2 > this.packets.length) {
      const head = this.head;
      this.packets = this.packets.slice(head);
      this.sizes = this.sizes.slice(head);
      this.ends = this.ends.slice(this.endsHead).map((end) => end - head);
      this.head = this.endsHead = 0;
    }
  }
}

/**
 * What a packet weighs while it waits: its data's bytes (UTF-8 for text), the measure of
 * cometa/server's `maxBufferedBytes`.
 */
export function packetBytes(packet: Packet): number {
  const data = packet.data;
  if (typeof data === "string") return Buffer.byteLength(data);
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}
