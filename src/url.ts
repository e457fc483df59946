/** The engine.io endpoint a socket talks to, and the URL of each request to it. */
import type { Environment } from "./env.js";
import { UsageError } from "./errors.js";
import { protocolVersion } from "./protocol.js";

export interface Endpoint {
  secure: boolean;
  /** Host and port, as in `example.com:8080`. */
  host: string;
  /** Always starts and ends with `/`. */
  path: string;
  query: Record<string, string>;
}

function pageLocation(env: Environment): string | undefined {
  const location = env.window && env.window.location;
  return (location && location.href) || (env.document && env.document.baseURI);
}

/** Resolves the caller's URL against the page, keeping only what engine.io uses of it. */
export function parseEndpoint(
  uri: string | undefined,
  path: string,
  query: Record<string, string>,
  env: Environment,
): Endpoint {
  const base = pageLocation(env);
  if (uri === undefined && !base) throw new UsageError("a URL is required outside a page");
  let url: URL;
  try {
    url = new URL(uri || base!, base);
  } catch (cause) {
    throw new UsageError(`not a URL: ${String(uri)}`, { cause });
  }
  if (!/^(http|ws)s?:$/.test(url.protocol)) throw new UsageError(`unsupported URL scheme in ${String(uri)}`);
  if (typeof path !== "string" || path === "") throw new UsageError("path must be a non-empty string");
  const merged: Record<string, string> = {};
  url.searchParams.forEach((value, key) => (merged[key] = value));
  for (const key in query) merged[key] = String(query[key]);
  return {
    secure: /^(https|wss):$/.test(url.protocol),
    host: url.host,
    path: ("/" + path + "/").replace(/\/{2,}/g, "/"),
    query: merged,
  };
}

/** An origin-like key for what `rememberUpgrade` stores. */
export function endpointKey(endpoint: Endpoint): string {
  return `${endpoint.secure ? "https" : "http"}://${endpoint.host}${endpoint.path}`;
}

export function endpointUrl(
  endpoint: Endpoint,
  scheme: "http" | "ws",
  params: Record<string, string | undefined>,
): string {
  // the transport's parameters win over the caller's query, and nothing overrides EIO
  const query: Record<string, string> = { ...endpoint.query, EIO: String(protocolVersion) };
  for (const key in params) if (params[key] !== undefined) query[key] = params[key]!;
  return `${scheme}${endpoint.secure ? "s" : ""}://${endpoint.host}${endpoint.path}?${new URLSearchParams(query)}`;
}
