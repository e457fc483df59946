/**
 * Error messages that say what to do. Transports describe a failure where it happens; the
 * socket adds, once, what only it knows: the endpoint, the first cause that says something
 * (Node's `ECONNREFUSED` sits two causes down, under "fetch failed"), and the usual remedy for
 * the usual mistakes (a wrong `path`, a transport the server does not serve).
 */
import { type CometaError, ServerError, TransportError } from "./errors.js";

/**
 * Transports stock engine.io and socket.io serve; cometa/server adds the others. Named this
 * way round so that a bundle keeping only some transports carries no other transport's name.
 */
const stockTransports = ["polling", "websocket", "jsonp"];

/** The deepest cause with a message, or a word on causes that carry none (a browser's XHR). */
function causeText(error: CometaError): string | undefined {
  let text: string | undefined;
  let cause = error.cause;
  for (let depth = 0; cause != null && depth < 8; depth++) {
    const message = (cause as { message?: unknown }).message;
    if (typeof message === "string" && message) text = message;
    else if (typeof cause === "string") text = cause;
    else if (!text) text = "no reason given: unreachable, or refused by CORS";
    cause = (cause as { cause?: unknown }).cause;
  }
  return text && !error.message.includes(text) ? text : undefined;
}

/** Why `error` most likely happened and what to change, if it is a usual mistake. */
function remedy(error: CometaError, path: string, opening: boolean): string | undefined {
  const status = (error as { status?: number }).status;
  if (status === 404) {
    return `Nothing serves engine.io at ${path}: check \`path\` (socket.io's is /socket.io/)`;
  }
  const transport = (error as { transport?: string }).transport || "";
  if (!opening || !transport || stockTransports.includes(transport)) return undefined;
  const unknown = error instanceof ServerError && error.code === 0;
  // EventSource and the forever-frame cannot read the refusal: only that the stream did not open
  const refused = error instanceof TransportError && !error.cause && (status === undefined || status === 400);
  if (!unknown && !refused) return undefined;
  return `The server does not serve ${transport}: cometa/server adds it to engine.io${transport === "iframe" ? " (with allowedOrigins)" : ""}`;
}

/**
 * Completes `error`'s message with the first useful cause, the endpoint and a remedy, once;
 * returns the same object, so its class and fields stay what callers test.
 */
export function explain(error: CometaError, endpoint: string, path: string, opening: boolean): CometaError {
  const at = ` (at ${endpoint})`;
  if (error.message.includes(at)) return error;
  const cause = causeText(error);
  const hint = remedy(error, path, opening);
  error.message = `${error.message}${cause ? `: ${cause}` : ""}${at}${hint ? `. ${hint}` : ""}`;
  return error;
}

/** Why a transport the server offers cannot be used here, for the globals an app can supply. */
export function unavailable(transport: string): string | undefined {
  const [global, from] = transport === "websocket" ? ["WebSocket", "ws"] : transport === "sse" ? ["EventSource", "eventsource"] : [];
  return global && `The server offers ${transport} but there is no ${global} here: pass one as \`env: { ${global} }\` (in Node, from the "${from}" package)`;
}
