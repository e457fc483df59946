/**
 * `require("engine.io-client")` resolves to cometa's Node compat build. Node's loader hooks
 * (hooks.ts) see ES module imports only; a CommonJS app, and socket.io-client's own CommonJS
 * build that its `require("socket.io-client")` loads, require it. Node has no public hook for
 * `require` in Node 20: this wraps `Module._resolveFilename`, the one function every `require`
 * resolves through, and changes nothing but that one bare name.
 */
import Module from "node:module";
import { fileURLToPath } from "node:url";

interface CommonJsLoader {
  _resolveFilename(this: unknown, request: string, ...rest: unknown[]): string;
}

/** Set on the wrapper: a second registration (`--require` and `--import` both) changes nothing. */
const aliased = Symbol.for("cometa.engine.io-client.require-alias");

export function aliasRequire(): void {
  const loader = Module as unknown as CommonJsLoader;
  const resolve = loader._resolveFilename as CommonJsLoader["_resolveFilename"] & { [aliased]?: true };
  if (resolve[aliased]) return;
  // beside this file in dist/
  const compat = fileURLToPath(new URL("./engine.io-client.node.cjs", import.meta.url));
  const wrapper = function (this: unknown, request: string, ...rest: unknown[]): string {
    return resolve.call(this, request === "engine.io-client" ? compat : request, ...rest);
  };
  loader._resolveFilename = Object.assign(wrapper, { [aliased]: true as const });
}
