// The clients of the cluster bench, in a process of their own: cometa's Node client (dist/),
// forced onto one transport each, through the balancer. Over IPC:
//   {open: {url, transports: {name: count}}} -> {opened, failed, ms}
//   {report: true} -> {latencies: [ms...], byTransport: {name: [ms...]}, lost}   (and forgets them)
//   {close: true}  -> closes every client, then exits
// Each message is {"t", "n"}: its latency is now minus t (same machine, same clock).
import { pathToFileURL } from "node:url";
import { EventSource } from "eventsource";
import WebSocket from "ws";

const { Socket } = await import(pathToFileURL(process.argv[2]).href);
const sockets = [];
let latencies = [];
let byTransport = {};
let lost = 0;

function open(url, transport) {
  return new Promise((resolve, reject) => {
    const socket = new Socket(url, { transports: [transport], upgrade: false, env: { WebSocket, EventSource } });
    let opened = false;
    socket.on("open", () => {
      opened = true;
      sockets.push(socket);
      resolve();
    });
    socket.on("message", (data) => {
      const latency = performance.timeOrigin + performance.now() - JSON.parse(data).t;
      latencies.push(latency);
      (byTransport[transport] ??= []).push(latency);
    });
    socket.on("close", (reason, details) => {
      if (!opened) reject(new Error(`${transport}: ${reason} ${details.error?.message ?? ""}`));
      else if (reason !== "forced close") lost++;
    });
  });
}

process.on("message", async (request) => {
  if (request.open) {
    const started = Date.now();
    // interleaved, so each transport spreads over the three processes
    const counts = Object.entries(request.open.transports);
    const queue = [];
    for (let i = 0; queue.length < counts.reduce((sum, [, count]) => sum + count, 0); i++) {
      for (const [name, count] of counts) if (i < count) queue.push(name);
    }
    let failed = 0;
    let next = 0;
    const worker = async () => {
      while (next < queue.length) {
        const transport = queue[next++];
        await open(request.open.url, transport).catch(() => failed++);
      }
    };
    await Promise.all(Array.from({ length: 50 }, worker));
    process.send({ opened: sockets.length, failed, ms: Date.now() - started });
  } else if (request.report) {
    process.send({ latencies, byTransport, lost });
    latencies = [];
    byTransport = {};
  } else if (request.close) {
    for (const socket of sockets) socket.close();
    setTimeout(() => process.exit(0), 500);
  }
});
process.send({ ready: true });
