/**
 * The forever-frame: a hidden iframe whose document the server streams as `<script>` chunks,
 * each handing packets to this page with postMessage aimed at the page's exact origin; upstream
 * POSTs. Needs the cometa/server extension with the page's origin allowed. The iframe is
 * inserted only once the page has loaded, so the page's own load event is not held back.
 */
import type { TransportDefinition } from "../transport.js";
import { canRequest } from "./http.js";
import { type ConnectStream, createStreamingTransport } from "./stream-core.js";
import { randomId, timestamp } from "./upstream.js";

const name = "iframe";

const connect: ConnectStream = (context, handlers) => {
  const { env } = context;
  const win = env.window!;
  const doc = env.document!;
  const frameId = randomId(context);
  const url = context.url("http", name, { ...timestamp(context), origin: win.location.origin, f: frameId });
  const serverOrigin = new URL(url).origin;
  const iframe = doc.createElement("iframe");
  let frameWindow: Window | null = null;
  let stopped = false;

  const onMessage = (event: MessageEvent) => {
    // only this frame's own window, from the server's origin, in the agreed shape
    if (stopped || event.source !== frameWindow || event.origin !== serverOrigin) return;
    const data = event.data as unknown;
    if (!Array.isArray(data) || data[0] !== "cometa" || data[1] !== frameId || typeof data[2] !== "string") return;
    handlers.packet(data[2]);
  };
  const onFrameLoad = () => {
    // the document ended (recycled, refused or cut). Messages it posted are already queued
    // ahead of this event's successors: let them through before reopening
    setTimeoutZero(() => {
      if (stopped) return;
      stop();
      handlers.ended();
    });
  };
  const setTimeoutZero = (callback: () => void) => env.setTimeout(callback, 0);
  const insert = () => {
    if (stopped) return;
    iframe.style.display = "none";
    iframe.setAttribute("aria-hidden", "true");
    iframe.tabIndex = -1;
    iframe.src = url;
    iframe.onload = onFrameLoad;
    (doc.body ?? doc.documentElement).appendChild(iframe);
    frameWindow = iframe.contentWindow;
    // the GET is on its way; a POST that overtakes it waits on the server
    handlers.opened();
  };
  const stop = () => {
    stopped = true;
    win.removeEventListener("message", onMessage);
    win.removeEventListener("load", insert);
    iframe.onload = null;
    iframe.remove();
  };

  win.addEventListener("message", onMessage);
  if (doc.readyState === "complete") insert();
  else win.addEventListener("load", insert, { once: true });
  return stop;
};

export const iframe: TransportDefinition = {
  name,
  // an opaque origin (file:, a sandboxed frame) cannot be a postMessage target
  supported: (env) => Boolean(env.document && env.window && env.window.location.origin !== "null") && canRequest(env),
  create: (context) => createStreamingTransport(context, name, connect),
};
