/**
 * engine.io protocol v4 on top of engine.io-parser: packets, text payloads, the open packet
 * and the server's JSON errors. Pure functions, tested on literal strings.
 */
import { decodePacket, decodePayload as parseDecodePayload, encodePacket as parseEncodePacket } from "engine.io-parser";
import type { Packet as ParserPacket } from "engine.io-parser";
import { HandshakeError, ProtocolError, ServerError } from "./errors.js";

export const protocolVersion = 4;
/** The record separator that joins packets in a polling payload. */
export const separator = "\x1e";

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

const base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

export function isBinary(data: unknown): data is BinaryData {
  return data instanceof ArrayBuffer || ArrayBuffer.isView(data);
}

function bytesOf(data: BinaryData): Uint8Array {
  return data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Synchronous base64, so text payloads keep their order without FileReader round trips. */
export function toBase64(data: BinaryData): string {
  const bytes = bytesOf(data);
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += base64Alphabet[n >> 18]! + base64Alphabet[(n >> 12) & 63] + base64Alphabet[(n >> 6) & 63] + base64Alphabet[n & 63];
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const n = (bytes[i]! << 16) | (rest === 2 ? bytes[i + 1]! << 8 : 0);
    out += base64Alphabet[n >> 18]! + base64Alphabet[(n >> 12) & 63] + (rest === 2 ? base64Alphabet[(n >> 6) & 63] : "=") + "=";
  }
  return out;
}

/** One packet as text: binary becomes `b` + base64 (every transport but WebSocket). */
export function encodeTextPacket(packet: Packet): string {
  const { data } = packet;
  if (data !== undefined && typeof data !== "string") return "b" + toBase64(data);
  let encoded = "";
  parseEncodePacket(packet as ParserPacket, false, (text) => (encoded = text as string));
  return encoded;
}

/** One packet for a WebSocket frame: binary stays binary. */
export function encodeFramePacket(packet: Packet): string | BinaryData {
  const { data } = packet;
  return data !== undefined && typeof data !== "string" ? data : encodeTextPacket(packet);
}

/** Packets joined for a polling body. */
export function encodePayload(packets: readonly Packet[]): string {
  return packets.map(encodeTextPacket).join(separator);
}

/** UTF-8 byte length, the unit of engine.io's maxPayload. */
export function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) length += 1;
    else if (code < 0x800) length += 2;
    else if (code >= 0xd800 && code < 0xdc00 && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      length += 4;
      i++;
    } else length += 3;
  }
  return length;
}

/** The size a packet takes in a text payload, without encoding it. */
export function encodedTextLength(packet: Packet): number {
  const { data } = packet;
  if (data === undefined) return 1;
  if (typeof data === "string") return 1 + utf8Length(data);
  return 1 + Math.ceil(data.byteLength / 3) * 4;
}

function mapReceived(packet: ParserPacket, binaryType: BinaryType, BlobClass: typeof Blob | undefined): ReceivedPacket {
  const { data } = packet;
  if (binaryType === "blob" && data instanceof ArrayBuffer && BlobClass) {
    return { type: packet.type as PacketType, data: new BlobClass([data]) };
  }
  return packet as ReceivedPacket;
}

/** One packet from a text or binary frame; throws ProtocolError on anything not engine.io. */
export function decodeFrame(frame: unknown, binaryType: BinaryType = "arraybuffer"): ReceivedPacket {
  if (typeof frame !== "string" && !isBinary(frame) && !(typeof Blob !== "undefined" && frame instanceof Blob)) {
    throw new ProtocolError("frame is neither text nor binary", frame);
  }
  if (frame === "") throw new ProtocolError("empty packet", frame);
  const packet = decodePacket(frame as string, "arraybuffer");
  if (packet.type === "error") {
    throw new ProtocolError(`malformed packet ${JSON.stringify(preview(frame))}`, frame);
  }
  return mapReceived(packet, binaryType, typeof Blob === "undefined" ? undefined : Blob);
}

/** Packets from a polling body; throws ProtocolError if any part is not an engine.io packet. */
export function decodePayload(payload: string, binaryType: BinaryType = "arraybuffer"): ReceivedPacket[] {
  if (typeof payload !== "string" || payload === "") {
    throw new ProtocolError("empty payload", payload);
  }
  const packets = parseDecodePayload(payload, "arraybuffer");
  const last = packets[packets.length - 1];
  if (last && last.type === "error") {
    throw new ProtocolError(`malformed payload ${JSON.stringify(preview(payload))}`, payload);
  }
  const BlobClass = typeof Blob === "undefined" ? undefined : Blob;
  return packets.map((packet) => mapReceived(packet, binaryType, BlobClass));
}

function preview(data: unknown): string {
  const text = typeof data === "string" ? data : `<${(data as BinaryData)?.byteLength ?? "?"} bytes>`;
  return text.length > 80 ? text.slice(0, 80) + "…" : text;
}

const isPositiveNumber = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value) && value > 0;

/** Validates the open packet's JSON, so a half-open session never starts. */
export function parseOpenData(data: unknown): OpenData {
  if (typeof data !== "string") throw new HandshakeError("open packet carries no data");
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch (cause) {
    throw new HandshakeError(`open packet is not JSON: ${preview(data)}`, { cause });
  }
  const open = parsed as Partial<Record<keyof OpenData, unknown>> | null;
  if (!open || typeof open !== "object") throw new HandshakeError("open packet is not an object");
  if (typeof open.sid !== "string" || open.sid === "") throw new HandshakeError("open packet has no sid");
  if (!Array.isArray(open.upgrades) || !open.upgrades.every((name) => typeof name === "string")) {
    throw new HandshakeError("open packet has no upgrades list");
  }
  if (!isPositiveNumber(open.pingInterval)) throw new HandshakeError("open packet has no pingInterval");
  if (!isPositiveNumber(open.pingTimeout)) throw new HandshakeError("open packet has no pingTimeout");
  if (open.maxPayload !== undefined && !isPositiveNumber(open.maxPayload)) {
    throw new HandshakeError("open packet has an invalid maxPayload");
  }
  return {
    sid: open.sid,
    upgrades: open.upgrades as string[],
    pingInterval: open.pingInterval,
    pingTimeout: open.pingTimeout,
    maxPayload: (open.maxPayload as number | undefined) ?? defaultMaxPayload,
  };
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
