/**
 * `node --import cometa/engine.io-client/register app.mjs`, or `node --require
 * cometa/engine.io-client/register app.cjs`: every import and every `require` of
 * `engine.io-client` (socket.io-client's among them) resolves to cometa's compat entry, so an
 * unchanged socket.io-client runs on cometa in Node, in an ES module app or a CommonJS one.
 */
import { register } from "node:module";
import { aliasRequire } from "./require-alias.js";

// the hooks file sits beside this one in dist/
register("./engine.io-client-hooks.mjs", import.meta.url);
aliasRequire();
