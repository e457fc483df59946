/**
 * Runs one plan (scenarios.js) in a fresh Node process, so no client inherits another's heap,
 * JIT state or connection pools. Started by run.mjs over IPC, or by hand / by profile.mjs:
 *
 *   node --expose-gc bench/lib/node-client.mjs '{"clientModule":"...","plan":{...}}'
 *
 * cometa gets `ws` and `eventsource` through `env`, as test/support/node-env.ts gives them;
 * engine.io-client is imported the way a Node app imports it (its Node build: XMLHttpRequest
 * from xmlhttprequest-ssl for polling, `ws` for websocket).
 */
import { pathToFileURL } from "node:url";
import { EventSource } from "eventsource";
import WebSocket from "ws";
import { runPlan } from "./scenarios.js";

const input = JSON.parse(process.argv[2]);
const libs = { WebSocket };
if (input.plan.spec.client === "cometa") {
  libs.Cometa = await import(pathToFileURL(input.clientModule).href);
  libs.env = { WebSocket, EventSource };
} else if (input.plan.spec.client === "eio") {
  const { Socket } = await import("engine.io-client");
  libs.eio = (url, options) => new Socket(url, options);
}

const result = await runPlan(input.plan, libs);
if (process.send) process.send({ result }, () => process.exit(0));
else {
  console.log(JSON.stringify(result, null, 2));
  process.exit(0);
}
