/**
 * Short polling: a GET the server answers at once with what is queued (or a noop), repeated
 * every `pollInterval`. For networks whose proxies cut any request held open. Needs the
 * cometa/server extension.
 *
 * No GET is held between polls, so the server binds each poll to the last answer: every answer
 * starts with `6k<token>` and the next GET sends it back as `k`. Whoever learns only the sid
 * cannot take the session's messages.
 */
import type { TransportDefinition } from "../transport.js";
import { canRequest, httpRequest } from "./http.js";
import { createPollingTransport } from "./polling-core.js";
import { timestamp } from "./upstream.js";

const tokenPrefix = "6k";

export const shortPolling: TransportDefinition = {
  name: "short-polling",
  supported: canRequest,
  create: (context) => {
    // the token of the last answer; none before the handshake's
    let token: string | undefined;
    return createPollingTransport(context, {
      name: "short-polling",
      wireName: "short-polling",
      get: (ctx, callback) =>
        httpRequest(
          ctx.env,
          ctx.options,
          "short-polling",
          { method: "GET", url: ctx.url("http", "short-polling", timestamp(ctx, token ? { k: token } : undefined)) },
          (error, body) => {
            if (!error && body.startsWith(tokenPrefix)) {
              // the token is for this adapter only: the session sees the plain noop it stands for
              const end = body.indexOf("\x1e");
              token = body.slice(tokenPrefix.length, end < 0 ? undefined : end);
              body = end < 0 ? "6" : body.slice(end + 1);
            }
            callback(error, body);
          },
        ),
      pollDelay: (ctx) => ctx.options.pollInterval,
    });
  },
};
