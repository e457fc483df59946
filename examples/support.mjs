// What every example does when started from a checkout: say what is missing (a build, a free
// port) in one line, instead of a 500 page or a stack trace.
import { existsSync } from "node:fs";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const shown = (url) => relative(root, fileURLToPath(url));

/** A file the example needs has not been built yet; `message` says which command makes it. */
export class NotBuilt extends Error {
  name = "NotBuilt";
}

/** Throws NotBuilt unless every one of `urls` exists. */
export function requireBuilt(urls, command = "npm run build") {
  const missing = urls.filter((url) => !existsSync(fileURLToPath(url)));
  if (missing.length > 0) throw new NotBuilt(`${missing.map(shown).join(", ")} missing: run \`${command}\` first`);
}

/** Imports a built module, or throws NotBuilt saying how to build it. */
export async function importBuilt(url, command = "npm run build") {
  requireBuilt([url], command);
  return import(url);
}

/**
 * Runs an example from the command line: `start({ port })` on PORT, or on 3000 when PORT is not
 * set. If 3000 is taken (another example is running), a free port is used and said so; if the
 * PORT asked for is taken, the example says so and exits.
 */
export async function runExample(script, start) {
  const asked = process.env.PORT;
  const port = asked === undefined ? 3000 : Number(asked);
  const command = `node ${shown(script)}`;
  try {
    return await start({ port });
  } catch (error) {
    if (error instanceof NotBuilt) return exit(error.message);
    if (error?.code !== "EADDRINUSE") throw error;
    if (asked !== undefined) {
      return exit(`port ${port} is taken (another example still running?): choose another, e.g. PORT=${port + 1} ${command}`);
    }
    console.log(`port ${port} is taken (another example still running?), so a free one is used; set PORT to choose`);
    return start({ port: 0 });
  }
}

function exit(message) {
  console.error(message);
  process.exitCode = 1;
}

/** `http.listen`, rejecting (EADDRINUSE...) instead of throwing from an `error` event. */
export function listen(http, port, host) {
  return new Promise((resolve, reject) => {
    http.once("error", reject);
    http.listen(port, host, () => {
      http.off("error", reject);
      resolve(http.address().port);
    });
  });
}
