/**
 * Long-polling: a GET held by the server until it has packets, answered and reissued; upstream
 * POSTs. XMLHttpRequest in browsers, fetch where there is none (Node, service workers).
 */
import type { TransportDefinition } from "../transport.js";
import { canRequest } from "./http.js";
import { createPollingTransport, getText } from "./polling-core.js";

export const polling: TransportDefinition = {
  name: "polling",
  supported: canRequest,
  create: (context) => createPollingTransport(context, { name: "polling", get: getText("polling") }),
};
