/**
 * Short polling: a GET the server answers at once with what is queued (or a noop), repeated
 * every `pollInterval`. For networks whose proxies cut any request held open. Needs the
 * cometa/server extension.
 */
import type { TransportDefinition } from "../transport.js";
import { canRequest } from "./http.js";
import { createPollingTransport, getText } from "./polling-core.js";

export const shortPolling: TransportDefinition = {
  name: "short-polling",
  supported: canRequest,
  create: (context) =>
    createPollingTransport(context, {
      name: "short-polling",
      wireName: "short-polling",
      get: getText("short-polling"),
      pollDelay: (ctx) => ctx.options.pollInterval,
    }),
};
