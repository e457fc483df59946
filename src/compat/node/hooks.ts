/**
 * Node module resolution hooks (run by `cometa/engine.io-client/register` in Node's loader
 * thread): the bare specifier `engine.io-client` becomes cometa's Node compat build.
 */

interface ResolveContext {
  conditions: string[];
  parentURL?: string;
}
interface ResolveResult {
  url: string;
  format?: string;
  shortCircuit?: boolean;
}
type NextResolve = (specifier: string, context: ResolveContext) => ResolveResult | Promise<ResolveResult>;

// beside this file in dist/
const compat = new URL("./engine.io-client.node.mjs", import.meta.url).href;

export function resolve(specifier: string, context: ResolveContext, nextResolve: NextResolve): ResolveResult | Promise<ResolveResult> {
  if (specifier === "engine.io-client") return { url: compat, format: "module", shortCircuit: true };
  return nextResolve(specifier, context);
}
