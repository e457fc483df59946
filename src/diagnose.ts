/**
 * What gets through between this environment and a server: every transport tried alone, then
 * the default ladder (open on the first, upgrade to the best), each attempt bounded and its
 * socket closed before the next starts. The result is typed for a page to render, and
 * `formatDiagnosis` makes of it a plain-text report to paste into a bug. An entry of its own
 * (`cometa/diagnose`, dist/diagnose.min.js), so no app bundle carries it.
 */
import { type Environment, resolveEnvironment } from "./env.js";
import type { SocketOptions } from "./options.js";
import { resumption } from "./resume.js";
import { BareSocket } from "./socket.js";
import type { Trace, TraceTopic } from "./trace.js";
import type { TransportDefinition } from "./transport.js";
import { iframe } from "./transports/iframe.js";
import { jsonp } from "./transports/jsonp.js";
import { polling } from "./transports/polling.js";
import { shortPolling } from "./transports/short-polling.js";
import { sse } from "./transports/sse.js";
import { websocket } from "./transports/websocket.js";
import { xhrStreaming } from "./transports/xhr-streaming.js";

/** The socket options every attempt shares; the diagnosis sets the transports, trace and timeouts. */
export type DiagnoseSocketOptions = Omit<SocketOptions, "transports" | "trace" | "upgrade" | "rememberUpgrade" | "connectTimeout" | "probeTimeout">;

export interface DiagnoseOptions {
  /** Options of every socket the diagnosis makes: `path`, `query`, `withCredentials`, `env`... */
  socket?: DiagnoseSocketOptions;
  /**
   * The transports, in the ladder's order; each is also tried alone, in this order. Default:
   * the seven cometa ships, in the order `Socket` uses.
   */
  transports?: readonly TransportDefinition[];
  /** Milliseconds for each attempt's handshake, and for each upgrade probe of the ladder. Default 10000. */
  timeout?: number;
  /** Milliseconds to wait for a message to come back once open. Default 3000. */
  echoTimeout?: number;
  /** Told as each attempt starts (`name`: a transport, or `ladder`), for a page that shows progress. */
  onStart?: (name: string) => void;
  /** Told of each attempt as it ends. */
  onAttempt?: (attempt: Attempt) => void;
  /** Default `navigator.userAgent`. */
  userAgent?: string;
}

/** One line of the trace hook, timed from the start of its attempt. */
export interface TraceLine {
  /** Milliseconds since the attempt started. */
  at: number;
  topic: TraceTopic;
  message: string;
  /** The detail's facts (plain values, lists, errors as `Name: message`; no session id), as `key: value, ...`. */
  facts?: string;
}

/** A failure as a report shows it: the error class's name and its message. */
export interface Failure {
  name: string;
  message: string;
}

export interface Attempt {
  /** The transport tried alone, or `ladder` for the default order with upgrades. */
  name: string;
  /** False when this environment lacks what the transport needs; nothing was tried. */
  supported: boolean;
  /** Why not, when `supported` is false. */
  unsupportedReason?: string;
  /** The handshake succeeded. */
  opened: boolean;
  /** The transport the session was on when the attempt ended (for the ladder: where it upgraded to). */
  transport?: string;
  /** The transport the session opened on. */
  openedOn?: string;
  /** Milliseconds from creating the socket to the handshake. */
  handshakeMs?: number;
  /**
   * `echoed`: a message sent came back, in `echoMs`; `no echo`: nothing came back within
   * `echoTimeout` (a server that does not echo, or a direction that does not get through);
   * `not tried`: the session never opened or ended first.
   */
  echo: "echoed" | "no echo" | "not tried";
  echoMs?: number;
  /** What ended the attempt early: the socket's typed error (its class name and message). */
  error?: Failure;
  /** The ladder's probes that failed, each an UpgradeError naming the transport and why. */
  upgradeErrors: Failure[];
  /** Every trace line of the attempt. */
  trace: TraceLine[];
}

export interface Diagnosis {
  /** The server's URL, without user name or password, and the query's values left out. */
  url: string;
  userAgent: string;
  /** When the diagnosis started, ISO 8601. */
  startedAt: string;
  durationMs: number;
  /** The `timeout` and `echoTimeout` it ran with, in milliseconds. */
  timeout: number;
  echoTimeout: number;
  /** One per transport tried alone, in order, then the ladder's (named `ladder`). */
  attempts: Attempt[];
  /** The transport the default ladder ended on, if it opened. */
  ladder?: string;
}

/** Every transport cometa ships, in `Socket`'s order. */
const everyTransport: readonly TransportDefinition[] = [polling, websocket, sse, xhrStreaming, iframe, jsonp, shortPolling];

/** What each adapter's `supported` looks for, in words. */
const needs: Record<string, string> = {
  websocket: "no WebSocket",
  sse: "no EventSource",
  iframe: "no document, or the page has an opaque origin",
  jsonp: "no document or fetch",
};
const requestNeeds = "no XMLHttpRequest or fetch";

interface Settings {
  env: Environment;
  socket: DiagnoseSocketOptions;
  timeout: number;
  echoTimeout: number;
}

/**
 * `url` as a report may show it: without user name and password, and with the query's values
 * (where tokens go) replaced by `…`, its keys kept.
 */
export function withoutCredentials(url: string): string {
  const [base, query] = url.replace(/#.*/, "").split("?", 2) as [string, string | undefined];
  const keys = query === undefined ? "" : `?${query.split("&").map((pair) => `${pair.split("=")[0]}=…`).join("&")}`;
  // only an authority can hold credentials: `scheme://user:password@host` or `//user@host`
  return base.replace(/^([a-z][a-z0-9+.-]*:)?\/\/[^/]*@/i, (_, scheme) => `${scheme || ""}//`) + keys;
}

/**
 * Free text (an error's message, a trace line) as a report may show it: every absolute URL in it
 * cleaned as {@link withoutCredentials} cleans the report's own, since a transport may name the
 * URL it failed on, query tokens and all.
 */
const cleaned = (text: string): string => text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>()]+/gi, (found) => withoutCredentials(found));

/**
 * A trace detail's facts as text (short trace messages leave them to it): plain values, lists
 * of them, and errors as `Name: message` where no reason is given; the session id is left out.
 */
function facts(detail: Readonly<Record<string, unknown>> | undefined): string {
  const parts: string[] = [];
  for (const key in detail) {
    const value = detail[key];
    const type = typeof value;
    if (key === "sid" || value === undefined) continue;
    if (type === "string") parts.push(`${key}: ${cleaned(value as string)}`);
    else if (type === "number" || type === "boolean") parts.push(`${key}: ${value}`);
    else if (Array.isArray(value)) parts.push(`${key}: [${value.join(", ")}]`);
    // beside a reason, an error repeats it, or the attempt's own error the report shows anyway
    else if (value && typeof (value as Error).message === "string" && !detail!.reason) parts.push(`${key}: ${failure(value).name}: ${failure(value).message}`);
  }
  return parts.join(", ");
}

function failure(error: unknown): Failure {
  const { name, message } = (error || {}) as { name?: unknown; message?: unknown };
  return { name: typeof name === "string" ? name : "Error", message: cleaned(typeof message === "string" ? message : String(error)) };
}

/**
 * Tries `transports` alone, one after another, then all of them as the default ladder, against
 * the engine.io server at `url`. Never rejects for a network failure: each one is in its
 * attempt's `error`. Every socket is closed when its attempt ends.
 */
export async function diagnose(url: string, options: DiagnoseOptions = {}): Promise<Diagnosis> {
  const socket = options.socket || {};
  const settings: Settings = {
    env: resolveEnvironment(socket.env),
    socket,
    timeout: options.timeout === undefined ? 10000 : options.timeout,
    echoTimeout: options.echoTimeout === undefined ? 3000 : options.echoTimeout,
  };
  const definitions = options.transports || everyTransport;
  const { env } = settings;
  const started = env.now();
  const navigator = (globalThis as { navigator?: { userAgent?: string } }).navigator;
  const attempts: Attempt[] = [];
  const run = async (name: string, tried: readonly TransportDefinition[]) => {
    if (options.onStart) options.onStart(name);
    const result = await attempt(url, name, tried, name === "ladder", settings);
    attempts.push(result);
    if (options.onAttempt) options.onAttempt(result);
    return result;
  };
  for (const definition of definitions) await run(definition.name, [definition]);
  const ladder = await run("ladder", definitions);
  return {
    url: withoutCredentials(url),
    userAgent: options.userAgent || (navigator && navigator.userAgent) || "unknown",
    startedAt: new Date(started).toISOString(),
    durationMs: env.now() - started,
    timeout: settings.timeout,
    echoTimeout: settings.echoTimeout,
    attempts,
    ladder: ladder.opened ? ladder.transport : undefined,
  };
}

/** One socket, from creation to closed: handshake, the ladder's upgrades, an echo. */
async function attempt(url: string, name: string, definitions: readonly TransportDefinition[], ladder: boolean, settings: Settings): Promise<Attempt> {
  const { env, timeout, echoTimeout } = settings;
  const result: Attempt = { name, supported: true, opened: false, echo: "not tried", upgradeErrors: [], trace: [] };
  const usable = definitions.filter((definition) => definition.supported(env));
  if (usable.length === 0) {
    result.supported = false;
    result.unsupportedReason = definitions.length === 1 ? needs[name] || requestNeeds : "no transport works here";
    return result;
  }

  const start = env.now();
  // a failure the socket met inside its constructor is reported before anyone can listen:
  // the trace of the session's close carries it
  let closedWith: unknown;
  const trace: Trace = (topic, message, detail) => {
    const line: TraceLine = { at: env.now() - start, topic, message: cleaned(message) };
    const plain = facts(detail);
    if (plain) line.facts = plain;
    result.trace.push(line);
    if (topic === "session" && detail && detail.error) closedWith = detail.error;
  };
  let socket: BareSocket;
  try {
    socket = new BareSocket(
      url,
      { resumption, ...settings.socket, transports: usable, upgrade: ladder, rememberUpgrade: false, connectTimeout: timeout, probeTimeout: timeout, trace },
      usable,
    );
  } catch (error) {
    result.error = failure(error);
    return result;
  }

  let closed = socket.state === "closed";
  let onClose = () => {};
  const offs = [
    socket.on("error", (error) => {
      if (!result.error) result.error = failure(error);
    }),
    socket.on("upgradeError", (error) => result.upgradeErrors.push(failure(error))),
    socket.on("close", () => {
      closed = true;
      onClose();
    }),
  ];
  /** Resolves when `settled` is called or the socket closes, or after `ms`; cleans up after itself. */
  const until = (ms: number, arm: (settle: () => void) => (() => void) | void) =>
    new Promise<boolean>((resolve) => {
      if (closed) return resolve(false);
      let disarm: (() => void) | void;
      const done = (value: boolean) => {
        env.clearTimeout(timer);
        onClose = () => {};
        if (disarm) disarm();
        resolve(value);
      };
      const timer = env.setTimeout(() => done(false), ms);
      onClose = () => done(false);
      disarm = arm(() => done(true));
    });

  // the handshake: bounded by connectTimeout, after which the socket closes with a HandshakeError
  result.opened = await until(timeout + 1000, (settle) => socket.on("open", settle));
  if (result.opened) {
    result.handshakeMs = env.now() - start;
    result.openedOn = socket.transport.name;
    if (ladder) await upgrades(socket, usable, env, timeout, until);
    if (!closed) {
      const token = `cometa diagnose ${name} ${Math.floor(env.random() * 1e9)}`;
      const sent = env.now();
      const echoed = await until(echoTimeout, (settle) => {
        const off = socket.on("message", (data) => data === token && settle());
        socket.send(token);
        return off;
      });
      if (echoed) result.echoMs = env.now() - sent;
      result.echo = echoed ? "echoed" : closed ? "not tried" : "no echo";
    }
    result.transport = socket.transport.name;
  }
  if (!closed) {
    // close() waits for the close packet to go out, bounded by requestTimeout (10 s by default)
    socket.close();
    await until(timeout, () => {});
  }
  for (const off of offs) off();
  if (!result.error && closedWith) result.error = failure(closedWith);
  if (!result.opened && !result.error) result.error = { name: "Error", message: `no handshake within ${timeout} ms` };
  return result;
}

/**
 * Waits for the ladder to settle: an upgrade, or every probe failed. The socket probes the
 * transports the server offers that work here, each bounded by probeTimeout.
 */
async function upgrades(
  socket: BareSocket,
  definitions: readonly TransportDefinition[],
  env: Environment,
  timeout: number,
  until: (ms: number, arm: (settle: () => void) => () => void) => Promise<boolean>,
): Promise<void> {
  const offered = socket.handshake ? socket.handshake.upgrades : [];
  const current = socket.transport.name;
  const candidates = definitions
    .filter((definition) => definition.name !== current && offered.indexOf(definition.name) >= 0 && definition.supported(env))
    .map((definition) => definition.name);
  if (candidates.length === 0) return;
  let failed = 0;
  await until(timeout * candidates.length + 1000, (settle) => {
    const offs = [
      socket.on("upgrade", settle),
      socket.on("upgradeError", (error) => {
        if (candidates.indexOf(error.transport) >= 0 && ++failed === candidates.length) settle();
      }),
    ];
    return () => offs.forEach((off) => off());
  });
}

const ms = (value: number | undefined) => (value === undefined ? "" : `${Math.round(value)} ms`);
/** Room for the longest name, `xhr-streaming`, and a gap. */
const column = 15;
const under = (text: string) => `${"".padEnd(column + 2)}${text}`;

/** One attempt's line (and the lines under it) of the report. */
function attemptLines(attempt: Attempt, echoTimeout: number): string[] {
  const head = attempt.name.padEnd(column);
  if (!attempt.supported) return [`${head}not supported here: ${attempt.unsupportedReason}`];
  const lines: string[] = [];
  if (attempt.opened) {
    const where = attempt.name === "ladder" ? ` on ${attempt.openedOn}, ended on ${attempt.transport}` : "";
    const echo =
      attempt.echo === "echoed"
        ? `echo ${ms(attempt.echoMs)}`
        : attempt.echo === "no echo"
          ? `no echo within ${echoTimeout} ms`
          : "no echo tried";
    lines.push(`${head}opened${where}  handshake ${ms(attempt.handshakeMs)}  ${echo}`);
    if (attempt.error) lines.push(under(`then ${attempt.error.name}: ${attempt.error.message}`));
  } else {
    const error = attempt.error || { name: "Error", message: "did not open" };
    lines.push(`${head}FAILED  ${error.name}: ${error.message}`);
  }
  for (const upgrade of attempt.upgradeErrors) lines.push(under(`${upgrade.name}: ${upgrade.message}`));
  // the trace says why, where something went wrong; a clean attempt needs none
  if (!attempt.opened || attempt.error || attempt.upgradeErrors.length > 0 || attempt.echo !== "echoed") {
    for (const line of attempt.trace) lines.push(under(`+${Math.round(line.at)} ms [${line.topic}] ${line.message}${line.facts ? ` (${line.facts})` : ""}`));
  }
  return lines;
}

/**
 * The diagnosis as plain text to paste into a bug: the URL (without credentials), the user
 * agent, when, where the ladder ended, then a line per attempt, with its error and its trace
 * lines when it did not fully work.
 */
export function formatDiagnosis(diagnosis: Diagnosis): string {
  const working = diagnosis.attempts.filter((attempt) => attempt.name !== "ladder" && attempt.opened && attempt.echo === "echoed");
  return [
    "cometa diagnosis",
    `URL:         ${withoutCredentials(diagnosis.url)}`,
    `User agent:  ${diagnosis.userAgent}`,
    `Started:     ${diagnosis.startedAt} (took ${(diagnosis.durationMs / 1000).toFixed(1)} s)`,
    `Ladder:      ${diagnosis.ladder ? `ended on ${diagnosis.ladder}` : "did not open"}`,
    `Working:     ${working.length > 0 ? working.map((attempt) => attempt.name).join(", ") : "none"}`,
    "",
    ...diagnosis.attempts.reduce<string[]>((lines, attempt) => lines.concat(attemptLines(attempt, diagnosis.echoTimeout)), []),
    "",
  ].join("\n");
}
