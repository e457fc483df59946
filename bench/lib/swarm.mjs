/**
 * Holds many idle sessions open on one transport, for the server's memory and idle CPU
 * (bench/lib/idle.mjs). cometa's Node client for polling, websocket, sse, xhr-streaming and
 * short-polling; for iframe (browser-only in cometa) a minimal raw client: it reads the
 * document's `<script>p("…")</script>` chunks and POSTs a pong for each ping, as the page would.
 *
 * argv[2]: JSON { clientModule, url, transport, iframeOrigin }
 * Requests: `open {count, concurrency}`, `status`, `close`.
 */
import { Agent, request } from "node:http";
import { pathToFileURL } from "node:url";
import { EventSource } from "eventsource";
import WebSocket from "ws";
import { openMany, serveRequests } from "./util.mjs";

const config = JSON.parse(process.argv[2]);
const { Socket } = await import(pathToFileURL(config.clientModule).href);
const sessions = [];
let lost = 0;
let frameIds = 0;

function openCometa() {
  return new Promise((resolve, reject) => {
    const socket = new Socket(config.url, {
      transports: [config.transport],
      upgrade: false,
      env: { WebSocket, EventSource },
    });
    let open = false;
    socket.on("open", () => {
      open = true;
      resolve({ close: () => socket.close() });
    });
    socket.on("close", (reason, details) => {
      if (!open) reject(new Error(`${reason} ${details.error?.message ?? ""}`));
      else if (reason !== "forced close") lost++;
    });
  });
}

const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
const packetPattern = /<script>p\(("(?:[^"\\]|\\.)*")\)<\/script>/g;

function post(sid, body) {
  const req = request(`${config.url}/engine.io/?EIO=4&transport=iframe&sid=${sid}`, {
    method: "POST",
    agent,
    headers: { "Content-Type": "text/plain;charset=UTF-8" },
  });
  req.on("response", (res) => res.resume());
  req.on("error", () => {});
  req.end(body);
}

function openIframe() {
  return new Promise((resolve, reject) => {
    const frame = `f${++frameIds}`;
    const query = `EIO=4&transport=iframe&origin=${encodeURIComponent(config.iframeOrigin)}&f=${frame}`;
    let sid;
    let buffered = "";
    let closed = false;
    // as a browser loads the frame of a page on iframeOrigin: the server checks that the page
    // it is asked to post to is the one that embeds it
    const req = request(`${config.url}/engine.io/?${query}`, { agent: false, headers: { Referer: `${config.iframeOrigin}/` } });
    const close = () => {
      closed = true;
      // a close packet ends the session, as cometa's close() would; then drop the document
      if (sid) post(sid, "1");
      setTimeout(() => req.destroy(), 100);
    };
    req.on("response", (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`iframe handshake: HTTP ${res.statusCode}`));
      }
      res.setEncoding("utf8");
      res.on("data", (chunk) => {
        buffered += chunk;
        let last = 0;
        for (const match of buffered.matchAll(packetPattern)) {
          last = match.index + match[0].length;
          const packet = JSON.parse(match[1]);
          if (packet[0] === "0") {
            sid = JSON.parse(packet.slice(1)).sid;
            resolve({ close });
          } else if (packet === "2") post(sid, "3");
        }
        buffered = buffered.slice(last);
      });
      res.on("end", () => {
        // recycled or closed: an idle session is neither; count it as lost
        if (!closed && sid) lost++;
      });
    });
    req.on("error", (error) => (sid ? !closed && lost++ : reject(error)));
    req.end();
  });
}

serveRequests({
  async open({ count, concurrency = 50 }) {
    const opener = config.transport === "iframe" ? openIframe : openCometa;
    const { opened, failed, firstError } = await openMany(count, concurrency, opener, "session open");
    sessions.push(...opened);
    return { open: sessions.length, failed, firstError };
  },
  status: () => ({ open: sessions.length, lost }),
  close() {
    for (const session of sessions.splice(0)) session.close();
    return true;
  },
});
process.send({ ready: true });
