/**
 * engine.io protocol v4: packets, text payloads, the open packet and the server's JSON errors.
 * Pure functions, tested on literal strings. Written here rather than taken from
 * engine.io-parser, whose browser decoder carries its own base64 table and accepts any text
 * after `b` as base64.
 */
import { HandshakeError, ProtocolError, ServerError } from "./errors.js";
import { payloadSeparator } from "./wire.js";

export const protocolVersion = 4;
/** The record separator that joins packets in a polling payload: src/wire.ts spells it for both sides. */
export const separator = payloadSeparator;

export type BinaryData = ArrayBuffer | ArrayBufferView;
export type MessageData = string | BinaryData | Blob;
export type BinaryType = "arraybuffer" | "blob";
export type PacketType = "open" | "close" | "ping" | "pong" | "message" | "upgrade" | "noop";

/** A packet ready for the wire: Blobs are read into ArrayBuffers before they get here. */
export interface Packet {
  type: PacketType;
  data?: string | BinaryData;
}

/** A packet as received, where binary may have been turned into a Blob. */
export interface ReceivedPacket {
  type: PacketType;
  data?: string | ArrayBuffer | Blob;
}

export interface OpenData {
  sid: string;
  upgrades: string[];
  pingInterval: number;
  pingTimeout: number;
  maxPayload: number;
}

/** engine.io's own default for servers that predate the `maxPayload` field. */
const defaultMaxPayload = 1e6;

/** `[object ArrayBuffer]`, `[object Blob]`...: the type of a value, whatever realm it comes from. */
const typeTag = (data: unknown): string => Object.prototype.toString.call(data);

/** By tag, not instanceof: buffers from another realm (an iframe, jsdom, Node's ws) count too. */
export function isArrayBuffer(data: unknown): data is ArrayBuffer {
  return typeTag(data) === "[object ArrayBuffer]";
}

export function isBinary(data: unknown): data is BinaryData {
  return isArrayBuffer(data) || ArrayBuffer.isView(data);
}

function bytesOf(data: BinaryData): Uint8Array {
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}

/** Synchronous base64, so text payloads keep their order without FileReader round trips. */
export function toBase64(data: BinaryData): string {
  const bytes = bytesOf(data);
  let binary = "";
  // in slices, because fromCharCode takes its bytes as arguments and engines cap their count
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000) as unknown as number[]);
  }
  return btoa(binary);
}

/** Packet types by their wire digit, as engine.io-parser numbers them. */
const packetTypes: readonly PacketType[] = ["open", "close", "ping", "pong", "message", "upgrade", "noop"];

/**
 * One packet as text: binary becomes `b` + base64 (every transport but WebSocket). Written
 * here rather than through engine.io-parser's callback API, whose browser build reads
 * binary through FileReader, asynchronously.
 */
export function encodeTextPacket(packet: Packet): string {
  const { data } = packet;
  if (data !== undefined && typeof data !== "string") return "b" + toBase64(data);
  return packetTypes.indexOf(packet.type) + (data || "");
}

/** One packet for a WebSocket frame: binary stays binary. */
export function encodeFramePacket(packet: Packet): string | BinaryData {
  const { data } = packet;
  return data !== undefined && typeof data !== "string" ? data : encodeTextPacket(packet);
}

/**
 * UTF-8 byte length, the unit of engine.io's maxPayload. A lone surrogate counts 3 bytes,
 * as the U+FFFD that browsers put on the wire in its place.
 */
export function utf8Length(text: string): number {
  // ASCII, the usual case, is counted without encoding: this runs for every packet of a batch
  return /^[\0-\x7f]*$/.test(text) ? text.length : new TextEncoder().encode(text).length;
}

/** A text packet, or undefined if it is not one: a type digit then data, or `b` then base64. */
function decodeText(frame: string): ReceivedPacket | undefined {
  const data = frame.slice(1);
  if (frame[0] === "b") {
    // padded base64 only: atob alone would let whitespace and missing padding through
    if (!/^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(data)) return undefined;
    const binary = atob(data);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return { type: "message", data: bytes.buffer };
  }
  // one character: an array index only if it is a digit
  const type = packetTypes[frame[0] as unknown as number];
  return type && (data ? { type, data } : { type });
}

/**
 * One packet from a text or binary frame; throws ProtocolError on anything not engine.io.
 * `payload` is the polling body the frame was cut from, named in the error instead.
 */
export function decodeFrame(frame: unknown, binaryType: BinaryType = "arraybuffer", payload?: string): ReceivedPacket {
  // text first, the common case; a binary frame is a message as it is
  const packet =
    typeof frame === "string" ? decodeText(frame) : isArrayBuffer(frame) ? { type: "message" as const, data: frame } : undefined;
  if (!packet) {
    throw new ProtocolError(`malformed ${payload ? "payload" : "packet"} ${JSON.stringify(preview(payload || frame))}`, payload || frame);
  }
  return binaryType === "blob" && isArrayBuffer(packet.data) ? { type: "message", data: new Blob([packet.data]) } : packet;
}

/** Packets from a polling body; throws ProtocolError if any part is not an engine.io packet. */
export function decodePayload(payload: string, binaryType: BinaryType = "arraybuffer"): ReceivedPacket[] {
  if (typeof payload !== "string" || payload === "") {
    throw new ProtocolError("empty payload", payload);
  }
  return payload.split(separator).map((part) => decodeFrame(part, binaryType, payload));
}

function preview(data: unknown): string {
  const text = typeof data === "string" ? data : typeTag(data);
  return text.length > 80 ? text.slice(0, 80) + "…" : text;
}

const isPositiveNumber = (value: unknown) => typeof value === "number" && Number.isFinite(value) && value > 0;
/** Milliseconds for a timer: a whole number, however large (the heartbeat waits out any length). */
const isPositiveInteger = (value: unknown) => Number.isInteger(value) && (value as number) > 0;

/** Each field of the open packet and what makes it valid; maxPayload is absent before engine.io 6. */
const openFields: [keyof OpenData, (value: unknown) => boolean][] = [
  ["sid", (value) => typeof value === "string" && value !== ""],
  ["upgrades", (value) => Array.isArray(value) && value.every((name) => typeof name === "string")],
  ["pingInterval", isPositiveInteger],
  ["pingTimeout", isPositiveInteger],
  ["maxPayload", (value) => value === undefined || isPositiveNumber(value)],
];

/** Validates the open packet's JSON, so a half-open session never starts. */
export function parseOpenData(data: unknown): OpenData {
  let open: Record<string, unknown> | null;
  try {
    open = JSON.parse(data as string);
  } catch (cause) {
    throw new HandshakeError(`open packet is not JSON: ${preview(data)}`, { cause });
  }
  if (!open || typeof open !== "object") throw new HandshakeError(`open packet is not an object: ${preview(data)}`);
  for (const [field, valid] of openFields) {
    if (!valid(open[field])) throw new HandshakeError(`open packet has no valid ${field}: ${preview(data)}`);
  }
  return { ...(open as unknown as OpenData), maxPayload: (open.maxPayload as number | undefined) || defaultMaxPayload };
}

/** engine.io's HTTP error body, `{"code":1,"message":"Session ID unknown"}`, if that is what it is. */
export function parseServerError(body: string, status: number, transport: string): ServerError | undefined {
  try {
    const parsed = JSON.parse(body) as { code?: unknown; message?: unknown } | null;
    if (parsed && typeof parsed.code === "number" && typeof parsed.message === "string") {
      return new ServerError(parsed.code, parsed.message, status, transport);
    }
  } catch {
    // not JSON: the caller reports the status instead
  }
  return undefined;
}
