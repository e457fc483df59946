/**
 * Every failure cometa reports is one of these classes, each carrying what went wrong and,
 * where there was one, the underlying `cause`.
 */

export class CometaError extends Error {
  // a string, not the class's own name: minifiers rename classes
  override name = "CometaError";
  declare cause?: unknown;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message);
    // set here rather than through Error's options, which engines before ES2022 ignore
    if (options) this.cause = options.cause;
  }
}

/** The network failed: connection refused, reset, HTTP 5xx, a response that is not engine.io's. */
export class TransportError extends CometaError {
  override name = "TransportError";
  constructor(
    message: string,
    readonly transport: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The server refused the request with engine.io's JSON error (`{"code":1,"message":"Session ID unknown"}`). */
export class ServerError extends CometaError {
  override name = "ServerError";
  constructor(
    readonly code: number,
    readonly serverMessage: string,
    readonly status: number,
    readonly transport: string,
  ) {
    super(`server refused the ${transport} request (HTTP ${status}): ${serverMessage} (code ${code})`);
  }
}

/** The server sent bytes that are not engine.io v4: a malformed packet or payload, an unknown type. */
export class ProtocolError extends CometaError {
  override name = "ProtocolError";
  constructor(message: string, readonly data?: unknown, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The open packet was missing, malformed or lacked a field, or the handshake timed out. */
export class HandshakeError extends CometaError {
  override name = "HandshakeError";
}

/** No ping from the server within pingInterval + pingTimeout. */
export class HeartbeatError extends CometaError {
  override name = "HeartbeatError";
}

/**
 * A resumable session could not be reattached after its transport broke: the resume window
 * passed, or the server no longer knows the session. `cause` is the break's error.
 */
export class ResumeError extends CometaError {
  override name = "ResumeError";
}

/** A probe of a better transport failed; the session stays on the transport it had. */
export class UpgradeError extends CometaError {
  override name = "UpgradeError";
  constructor(message: string, readonly transport: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The caller used the socket wrongly: a bad URL, an unknown transport, a send after close. */
export class UsageError extends CometaError {
  override name = "UsageError";
}

/** Messages that did not fit in the reconnecting socket's bounded buffer; none were sent. */
export class BufferOverflowError extends CometaError {
  override name = "BufferOverflowError";
  constructor(message: string, readonly messages: unknown[]) {
    super(message);
  }
}

/**
 * The server sent more in one piece (a polling response, a stream line or event, a frame) than
 * the socket's `maxIncomingBytes` allows; the session closes rather than buffer without bound.
 */
export class IncomingTooLargeError extends CometaError {
  override name = "IncomingTooLargeError";
  constructor(
    readonly transport: string,
    /** What had arrived when the limit was passed (text counts one per character). */
    readonly size: number,
    readonly limit: number,
  ) {
    super(`${transport}: ${size} bytes in one piece, over maxIncomingBytes (${limit}); raise it to accept more`);
  }
}

/** A message could not be encoded for the wire; the session closes and the message is in `unsent`. */
export class EncodingError extends CometaError {
  override name = "EncodingError";
}

/**
 * The server refused a write as too large: a POST answered 413, or a JSONP message over the
 * server's maxPayload (refused before it is sent, as a no-cors request cannot see the 413).
 */
export function refusedAsTooLarge(error: CometaError): boolean {
  if (error instanceof ServerError) return error.status === 413;
  return error instanceof TransportError && (error.status === 413 || /over the server's maxPayload/.test(error.message));
}
