/**
 * JSONP polling, for pages where CORS is unavailable: each poll is a `<script>` whose response
 * calls `___eio[N]("payload")` (stock engine.io's `j=N` support); upstream is the urlencoded
 * form POST `d=payload` the stock server accepts, sent with a `no-cors` fetch so it needs no
 * CORS either. Script tags and callbacks are removed after use.
 */
import { type CometaError, EncodingError, IncomingTooLargeError, ProtocolError, TransportError } from "../errors.js";
import type { TransportContext, TransportDefinition } from "../transport.js";
import type { Abort, HttpCallback } from "./http.js";
import { createPollingTransport } from "./polling-core.js";
import { type BodySize, timestamp } from "./upstream.js";

/** The callbacks stock servers' responses call, shared by every JSONP transport of the page. */
type Registry = (((payload: string) => void) | undefined)[];

const noop = () => {};

/**
 * Stock engine.io turns `\n` (backslash, n) in `d` into a line feed and `\\n` into `\n`, a
 * convention older clients needed for forms: every backslash-n gets one more backslash, so it
 * arrives as written. A line feed goes as it is (`%0A`): written as `\n`, as those clients did,
 * it could not follow a backslash, which would turn the pair into a literal `\n`.
 */
export function escapeJsonpPayload(payload: string): string {
  return payload.replace(/\\n/g, "\\\\n");
}

/**
 * The text with each lone surrogate (half of a character cut by `slice`) replaced by U+FFFD,
 * as TextEncoder and every other transport's wire do: encodeURIComponent throws on one.
 * `String.prototype.toWellFormed` is too recent for the browsers this build targets.
 */
export function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]|[\uD800-\uDFFF]/g, (unit) => (unit.length > 1 ? unit : "\uFFFD"));
}

/** A payload as the value of the form's `d` field. */
export const encodeJsonpForm = (payload: string): string => encodeURIComponent(escapeJsonpPayload(wellFormed(payload)));

/** The form body's size: what engine.io's maxHttpBufferSize counts, after URL-encoding. */
const formBody: BodySize = {
  packet: (text) => encodeJsonpForm(text).length,
  _separator: 3, // U+001E as %1E
  _overhead: 2, // d=
  _perChar: 9, // three UTF-8 bytes, each as %XX
};

export const jsonp: TransportDefinition = {
  name: "jsonp",
  supported: (env) => Boolean(env.document && env.window && env.fetch),
  create(context) {
    const { env } = context;
    const scope = env.window as unknown as { ___eio?: Registry };
    const registry = scope.___eio || (scope.___eio = []);
    // the server keeps only the digits of `j`: an index into the page's registry, one per
    // transport, by which cometa/server tells this transport's requests from those of one given
    // up (a script cannot be aborted: the browser may still send it, or send it again)
    const index = registry.length;
    let deliver: (payload: string) => void = noop;
    registry.push((payload) => deliver(payload));
    // the script of a poll receives (its URL says so); the form POST does not
    const url = (ctx: TransportContext, receives?: boolean) =>
      ctx.url("http", "polling", { ...timestamp(ctx), j: String(index) }, receives);

    const get = (ctx: TransportContext, callback: HttpCallback): Abort => {
      const script = ctx.env.document!.createElement("script");
      let done = false;
      const release = () => {
        done = true;
        deliver = noop;
        script.onerror = script.onload = null;
        script.remove();
        ctx.env.window!.removeEventListener("load", insert);
      };
      const finish = (error: CometaError | undefined, payload: string) => {
        if (done) return;
        release();
        callback(error, payload);
      };
      deliver = (payload) => {
        const text = String(payload);
        // the script is already read; a payload this large still ends the session, as on polling
        const limit = ctx.options.maxIncomingBytes;
        finish(text.length > limit ? new IncomingTooLargeError("jsonp", text.length, limit) : undefined, text);
      };
      script.async = true;
      script.src = url(ctx, true);
      // the load event follows the script's execution: no callback by then means no engine.io
      script.onload = () => finish(new ProtocolError("jsonp response did not call back"), "");
      script.onerror = () => finish(new TransportError("jsonp poll failed to load (network error or refused)", "jsonp"), "");
      const doc = ctx.env.document!;
      function insert() {
        if (!done) (doc.head || doc.body).appendChild(script);
      }
      // a script inserted while the page loads holds back its load event, poll after poll
      if (doc.readyState === "complete") insert();
      else ctx.env.window!.addEventListener("load", insert, { once: true });
      return release;
    };

    const post = (ctx: TransportContext, payload: string, callback: HttpCallback): Abort => {
      let cancelled = false;
      // a POST given up (its transport closed) is ended, not left to the browser, which could
      // send it again after a reset, when another transport carries the session
      const controller = typeof AbortController === "function" ? new AbortController() : undefined;
      let body = "";
      let error: CometaError | undefined;
      try {
        body = "d=" + encodeJsonpForm(payload);
      } catch (cause) {
        // not expected once well-formed; reported like any failed POST rather than thrown out of `send`
        error = new EncodingError("jsonp could not URL-encode a payload", { cause });
      }
      if (body.length > ctx.session.maxPayload) {
        // the server would answer 413, which a no-cors request cannot see: the message would
        // vanish. Only a single message over the limit gets here (batches are sized to fit)
        error = new TransportError(`jsonp: a message of ${body.length} encoded bytes is over the server's maxPayload`, "jsonp");
      }
      // a refusal is reported a turn later too, like any failed POST
      (error
        ? Promise.resolve(error)
        : ctx.env.fetch!(url(ctx), {
            method: "POST",
            mode: "no-cors",
            // like the script tags of the polls, so a sticky-session cookie goes both ways
            credentials: "include",
            headers: { "Content-Type": "application/x-www-form-urlencoded" },
            body,
            signal: controller && controller.signal,
          }).then(
            // an opaque response: the server's answer cannot be read, only that it came
            () => undefined,
            (cause: unknown) => new TransportError("jsonp POST failed: network error", "jsonp", undefined, { cause }),
          )
      ).then((failure) => !cancelled && callback(failure, failure ? "" : "ok"));
      return () => {
        cancelled = true;
        if (controller) controller.abort();
      };
    };

    const transport = createPollingTransport(context, {
      name: "jsonp",
      _wireName: "polling",
      get,
      post,
      _postBody: formBody,
      // a no-cors POST's answer is opaque: a refusal reads as a success, so a resumable session
      // waits for the server's `6a<N>` instead
      _opaquePost: true,
    });
    transport.on("close", () => {
      // indexes are positions in a shared array: keep the slot, drop the closure
      registry[index] = noop;
    });
    return transport;
  },
};
