/**
 * Runs one socket.io plan (io-scenarios.js) in a fresh Node process. socket.io-client is the npm
 * package, imported as a Node app imports it; for cometa, its `engine.io-client` import is
 * resolved to cometa's compat entry by a loader hook (what `cometa/engine.io-client/register`
 * does), so both clients run the same socket.io-client code. Started by bench/lib/socket-io.mjs:
 *
 *   node --expose-gc bench/lib/io-client.mjs '{"client":"cometa"|"eio","compatHooks":"...","plan":{...}}'
 */
import { register } from "node:module";
import { pathToFileURL } from "node:url";
import { runIoPlan } from "./io-scenarios.js";

const input = JSON.parse(process.argv[2]);
if (input.client === "cometa") register(pathToFileURL(input.compatHooks).href);
const { io } = await import("socket.io-client");
// a hook that did not apply would measure engine.io-client twice, silently
const engineIoClient = import.meta.resolve("engine.io-client");
if ((input.client === "cometa") !== /engine\.io-client\.node\.mjs$/.test(engineIoClient)) {
  throw new Error(`socket.io-client's engine.io-client is ${engineIoClient} for ${input.client}`);
}

const result = await runIoPlan(input.plan, io);
if (process.send) process.send({ result }, () => process.exit(0));
else {
  console.log(JSON.stringify(result, null, 2));
  process.exit(0);
}
