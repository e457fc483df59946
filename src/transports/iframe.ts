/**
 * The forever-frame: a hidden iframe whose document the server streams as `<script>` chunks,
 * each handing a payload of packets to this page with postMessage aimed at the page's exact
 * origin; upstream POSTs. Needs the cometa/server extension with the page's origin allowed. The
 * iframe is inserted only once the page has loaded, so the page's own load event is not held
 * back.
 */
import { TransportError } from "../errors.js";
import { decodeIframeMessage, iframeEnd, iframeReady } from "../wire.js";
import type { TransportDefinition } from "../transport.js";
import { canRequest } from "./http.js";
import { type ConnectStream, createStreamingTransport } from "./stream-core.js";
import { randomId, timestamp } from "./upstream.js";

const name = "iframe";
/** Milliseconds a document's last messages get to arrive after its load event. */
const straggleDelay = 100;

const connect: ConnectStream = (context, handlers) => {
  const { env } = context;
  const win = env.window!;
  const doc = env.document!;
  const frameId = randomId(context);
  const url = context.url("http", name, { ...timestamp(context), origin: win.location.origin, f: frameId }, true);
  const serverOrigin = new URL(url).origin;
  const iframe = doc.createElement("iframe");
  let frameWindow: Window | null = null;
  let stopped = false;
  let loadTimer: unknown;

  /** The document's bootstrap ran: it is ours and the server has our GET. */
  let ready = false;
  const finish = (after: () => void) => {
    if (stopped) return;
    stop();
    after();
  };
  /**
   * The document ended: the next one (which `ended` opens at once) starts loading before this
   * frame is torn down, since removing a frame whose document ran many scripts takes a browser
   * milliseconds, and the next document's navigation can run meanwhile.
   */
  const end = () => {
    if (stopped) return;
    stop(true);
    handlers.ended();
    iframe.remove();
  };

  const onMessage = (event: MessageEvent) => {
    // only this frame's own window, from the server's origin, in the agreed shape
    if (stopped || event.source !== frameWindow || event.origin !== serverOrigin) return;
    const body = decodeIframeMessage(event.data, frameId);
    if (typeof body === "string") handlers.payload(body);
    else if (body === iframeReady && !ready) {
      ready = true;
      handlers.opened();
    } else if (body === iframeEnd) end();
  };
  const onFrameLoad = () => {
    // A frame's messages can trail its load event: a cross-site frame's, and a short document
    // that came whole (a stream reopened on a backlog larger than the recycle size, in WebKit
    // and Firefox) whose bootstrap is still queued. So the load is judged a moment later.
    const loadedAfterReady = ready;
    loadTimer = env.setTimeout(() => {
      // no bootstrap by then: an error page (an iframe cannot read its response's status)
      if (!ready) return finish(() => handlers.failed(new TransportError("iframe document refused, or not a cometa stream", name)));
      // a bootstrap, then the load, and no end marker: the stream was cut on the way, and it
      // reopens. A bootstrap that came after the load leaves the stream as it is: its document
      // is alive (or ends with its end marker), and its own load comes when it ends.
      if (loadedAfterReady) finish(() => handlers.ended(true));
    }, straggleDelay);
  };
  const insert = () => {
    if (stopped) return;
    iframe.style.display = "none";
    iframe.setAttribute("aria-hidden", "true");
    iframe.tabIndex = -1;
    iframe.src = url;
    iframe.onload = onFrameLoad;
    (doc.body || doc.documentElement).appendChild(iframe);
    frameWindow = iframe.contentWindow;
  };
  /** `keepFrame`: the caller removes the iframe itself (see {@link end}). */
  const stop = (keepFrame?: boolean) => {
    stopped = true;
    win.removeEventListener("message", onMessage);
    win.removeEventListener("load", insert);
    iframe.onload = null;
    if (loadTimer !== undefined) env.clearTimeout(loadTimer);
    if (!keepFrame) iframe.remove();
  };

  win.addEventListener("message", onMessage);
  if (doc.readyState === "complete") insert();
  else win.addEventListener("load", insert, { once: true });
  return () => stop();
};

export const iframe: TransportDefinition = {
  name,
  // an opaque origin (file:, a sandboxed frame) cannot be a postMessage target
  supported: (env) => Boolean(env.document && env.window && env.window.location.origin !== "null") && canRequest(env),
  create: (context) => createStreamingTransport(context, name, connect),
};
