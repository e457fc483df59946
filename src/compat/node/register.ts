/**
 * `node --import cometa/engine.io-client/register app.mjs`: every ES module import of
 * `engine.io-client` (socket.io-client's among them) resolves to cometa's compat entry, so an
 * unchanged socket.io-client runs on cometa in Node.
 */
import { register } from "node:module";

// the hooks file sits beside this one in dist/
register("./engine.io-client-hooks.mjs", import.meta.url);
