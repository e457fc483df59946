/** A TransportContext as BaseSocket builds one, for driving an adapter on its own. */
import type { Environment } from "../../../src/env.js";
import type { SessionInfo, TransportContext, TransportOptions } from "../../../src/transport.js";
import { endpointUrl, parseEndpoint } from "../../../src/url.js";

export const defaultTransportOptions: TransportOptions = {
  withCredentials: false,
  extraHeaders: {},
  binaryType: "arraybuffer",
  requestTimeout: 0,
  pollInterval: 1000,
  timestampRequests: true,
  maxIncomingBytes: 1e8,
};

export function makeContext(
  env: Environment,
  options: Partial<TransportOptions> = {},
  session: Partial<SessionInfo> = {},
  uri = "http://localhost:3000",
): TransportContext {
  const endpoint = parseEndpoint(uri, "/engine.io/", {}, env);
  const info: SessionInfo = { maxPayload: 1e6, ...session };
  return {
    env,
    session: info,
    options: { ...defaultTransportOptions, ...options },
    url: (scheme, transport, extra) => endpointUrl(endpoint, scheme, { ...extra, transport, sid: info.sid }),
  };
}
