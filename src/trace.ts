/**
 * The trace hook: why things happened on the way to a working connection (a probe that failed,
 * a pause, a gateway re-poll, a stream recycle, a reconnect decision). Callers write
 * `trace && trace(...)`: when no hook is set the arguments (messages, detail objects) are never
 * built, so tracing costs nothing when off. (That is `trace?.(...)` written at the script-tag
 * builds' target, which scripts/check-syntax.mjs holds the client to.)
 */
export type TraceTopic =
  | "session" // handshake, open, close of the session
  | "transport" // a transport opened, failed or closed
  | "probe" // an upgrade probe: started, answered, failed and why
  | "upgrade" // pause, swap, give up
  | "poll" // polling requests, gateway re-polls
  | "stream" // stream opened, recycled, cut, reopened
  | "heartbeat" // ping/pong, missed deadlines
  | "reconnect"; // reconnect decisions: delay, reason, give up

/** Receives one line of trace: a topic, a sentence saying what happened, and the facts. */
export type Trace = (topic: TraceTopic, message: string, detail?: Readonly<Record<string, unknown>>) => void;
