/** Binary data as a plain array of bytes, for assertions whatever realm made the buffer. */
export function bytes(data: unknown): number[] {
  if (ArrayBuffer.isView(data)) return Array.from(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  // binary decoded by engine.io-parser may come from Node's realm, not jsdom's: check the tag
  if (Object.prototype.toString.call(data) === "[object ArrayBuffer]") return Array.from(new Uint8Array(data as ArrayBuffer));
  throw new Error(`not binary: ${Object.prototype.toString.call(data)}`);
}
