/**
 * Long-polling: a GET held by the server until it has packets, answered and reissued; upstream
 * POSTs. XMLHttpRequest in browsers, fetch where there is none (Node, service workers).
 */
import type { TransportDefinition } from "../transport.js";
import { canRequest, httpRequest } from "./http.js";
import { createPollingTransport } from "./polling-core.js";
import { timestamp } from "./upstream.js";

export const polling: TransportDefinition = {
  name: "polling",
  supported: canRequest,
  create: (context) =>
    createPollingTransport(context, {
      name: "polling",
      wireName: "polling",
      get: (ctx, callback) =>
        httpRequest(ctx.env, ctx.options, "polling", { method: "GET", url: ctx.url("http", "polling", timestamp(ctx)) }, callback),
      pollDelay: () => 0,
    }),
};
