/**
 * Holds many idle engine.io sessions open with minimal raw clients, for the server's memory per
 * session with and without resumption (bench/lib/resume.mjs). One process, one transport, one
 * mode: `offer` true sends `resume=1` in the handshake and speaks the acknowledgements of
 * docs/wire.md ("Resumable sessions") exactly as far as an idle session needs them; false is
 * plain engine.io v4. Raw, so the client costs nothing to the measurement and the numbers are
 * the server's.
 *
 * Each session, once open, sends one message and waits for its echo (so the server's per-session
 * state has seen traffic both ways and, when resumable, an acknowledgement both ways), then sits:
 * - polling: a held GET (carrying `ack=<N>` when resumable), a POSTed pong for each ping;
 * - websocket: a pong frame for each ping; when resumable, `6s1` before its message and `6a<N>`
 *   after the echo, as cometa's client does.
 *
 * argv[2]: JSON { url, transport: "polling" | "websocket", offer: boolean }
 * Requests: `open {count, concurrency}`, `status`, `close`.
 */
import { Agent, request } from "node:http";
import WebSocket from "ws";
import { openMany, serveRequests } from "./util.mjs";

const config = JSON.parse(process.argv[2]);
const SEPARATOR = "\x1e";
const ECHOED = "resume-bench";
const sessions = [];
let lost = 0;
let granted = 0;

const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
const base = `${config.url}/engine.io/?EIO=4`;

function http(method, url, body) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: body === undefined ? {} : { "Content-Type": "text/plain;charset=UTF-8" } });
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode, text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** The open packet's data; counts sessions the server granted resumption to. */
function readOpen(packet) {
  if (packet[0] !== "0") throw new Error(`expected an open packet, got ${JSON.stringify(packet.slice(0, 40))}`);
  const data = JSON.parse(packet.slice(1));
  if (data.resume) granted++;
  return data;
}

function openPolling() {
  return new Promise((resolve, reject) => {
    let sid;
    let received = 0;
    let closed = false;
    let resumable = false;
    const url = () => `${base}&transport=polling&sid=${sid}`;
    // one POST in flight at most, as engine.io requires (a second one ends the session)
    let posting = Promise.resolve();
    const post = (packets) => (posting = posting.then(() => http("POST", url(), packets.join(SEPARATOR)).catch(() => {})));
    const poll = async () => {
      while (!closed) {
        let answer;
        try {
          answer = await http("GET", resumable ? `${url()}&ack=${received}` : url());
        } catch {
          if (!closed) lost++;
          return;
        }
        if (answer.status !== 200) {
          if (!closed) lost++;
          return;
        }
        for (const packet of answer.text.split(SEPARATOR)) {
          if (packet === "2") post(["3"]);
          else if (packet === "1") {
            if (!closed) lost++;
            return;
          } else if (packet[0] === "4") {
            received++;
            if (packet.slice(1) === ECHOED) resolve({ close });
          }
        }
      }
    };
    const close = () => {
      closed = true;
      post(["1"]);
    };
    http("GET", `${base}&transport=polling${config.offer ? "&resume=1" : ""}`)
      .then(({ status, text }) => {
        if (status !== 200) throw new Error(`polling handshake: HTTP ${status}`);
        const open = readOpen(text.split(SEPARATOR)[0]);
        sid = open.sid;
        resumable = Boolean(open.resume);
        poll();
        return post(resumable ? ["6s1", `4${ECHOED}`] : [`4${ECHOED}`]);
      })
      .catch(reject);
  });
}

function openWebSocket() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace(/^http/, "ws")}&transport=websocket${config.offer ? "&resume=1" : ""}`, { perMessageDeflate: false });
    let closed = false;
    let opened = false;
    let resumable = false;
    let received = 0;
    const close = () => {
      closed = true;
      if (ws.readyState === WebSocket.OPEN) ws.send("1");
      ws.close();
    };
    ws.on("message", (raw) => {
      const packet = String(raw);
      if (!opened) {
        opened = true;
        try {
          resumable = Boolean(readOpen(packet).resume);
        } catch (error) {
          return reject(error);
        }
        if (resumable) ws.send("6s1");
        ws.send(`4${ECHOED}`);
        return;
      }
      if (packet === "2") ws.send("3");
      else if (packet[0] === "4") {
        received++;
        // acknowledged at once: the server then holds nothing for this session
        if (resumable) ws.send(`6a${received}`);
        if (packet.slice(1) === ECHOED) resolve({ close });
      }
    });
    ws.on("error", (error) => (opened ? undefined : reject(error)));
    ws.on("close", () => {
      if (!opened) reject(new Error("websocket closed before the open packet"));
      else if (!closed) lost++;
    });
  });
}

serveRequests({
  async open({ count, concurrency = 50 }) {
    const opener = config.transport === "websocket" ? openWebSocket : openPolling;
    const { opened, failed, firstError } = await openMany(count, concurrency, opener, "session open and echo");
    sessions.push(...opened);
    return { open: sessions.length, failed, firstError, granted };
  },
  status: () => ({ open: sessions.length, lost, granted }),
  close() {
    for (const session of sessions.splice(0)) session.close();
    granted = 0;
    return true;
  },
});
process.send({ ready: true });
