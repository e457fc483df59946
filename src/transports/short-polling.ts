/**
 * Short polling: a GET the server answers at once with what is queued (or a noop), repeated
 * every `pollInterval`. For networks whose proxies cut any request held open. Needs the
 * cometa/server extension.
 *
 * No GET is held between polls, so the server binds each poll to the last answer: every answer
 * starts with `6k<token>` and the next GET sends it back as `k`. Whoever learns only the sid
 * cannot take the session's messages.
 */
import type { TransportContext, TransportDefinition } from "../transport.js";
import { canRequest } from "./http.js";
import { decodePollToken, pollTokenParam } from "../wire.js";
import { createPollingTransport, getText } from "./polling-core.js";

export const shortPolling: TransportDefinition = {
  name: "short-polling",
  supported: canRequest,
  create: (context) => {
    // the token of the last answer; none before the handshake's
    let token: string | undefined;
    const get = getText("short-polling");
    return createPollingTransport(context, {
      name: "short-polling",
      get: (ctx, callback) => {
        const k = token;
        // the same GET as any poll's, with the token among its URL's parameters
        const tokenCtx: TransportContext = k
          ? { ...ctx, url: (scheme, transport, extra, receives) => ctx.url(scheme, transport, { ...extra, [pollTokenParam]: k }, receives) }
          : ctx;
        return get(tokenCtx, (error, body) => {
          if (!error) {
            // the token is for this adapter only: the session sees the plain noop it stands for
            const [next, rest] = decodePollToken(body);
            if (next !== undefined) token = next;
            body = rest;
          }
          callback(error, body);
        });
      },
      _pollDelay: (ctx) => ctx.options.pollInterval,
    });
  },
};
