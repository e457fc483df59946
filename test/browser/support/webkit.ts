/**
 * WebKitGTK for the browser tests: Debian's MiniBrowser under its own Xvfb display, driven by
 * WebKitWebDriver through the W3C WebDriver endpoints with plain fetch (no BiDi there, and no
 * log endpoint: page problems are recorded by a script the page server puts at the top of
 * every page, see `problemRecorderScript`).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { freePort } from "../../support/processes.js";

/** Debian's paths (packages webkit2gtk-driver, libwebkit2gtk-4.1-0 and xvfb). */
export const webkitDriverPath = process.env.WEBKIT_DRIVER_PATH || "/usr/bin/WebKitWebDriver";
export const miniBrowserPath = process.env.MINIBROWSER_PATH || "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";
export const xvfbPath = "/usr/bin/Xvfb";
export const webkitAvailable = [webkitDriverPath, miniBrowserPath, xvfbPath].every((path) => existsSync(path));

/**
 * Records console.error calls, uncaught exceptions and unhandled rejections on
 * `window.__cometaProblems`, as the other engines' drivers report them. JavaScriptCore's
 * `stack` holds only the frames, so the message is written before it.
 */
export const problemRecorderScript = `<script>(function () {
  if (window.__cometaProblems) return;
  var problems = window.__cometaProblems = [];
  var describe = function (value) {
    var text = String(value);
    return value && value.stack ? text + "\\n" + value.stack : text;
  };
  var error = console.error;
  console.error = function () {
    problems.push("console.error: " + Array.prototype.map.call(arguments, String).join(" "));
    return error.apply(console, arguments);
  };
  window.addEventListener("error", function (event) {
    problems.push("uncaught: " + (event.error ? describe(event.error) : event.message));
  });
  window.addEventListener("unhandledrejection", function (event) {
    problems.push("unhandled rejection: " + describe(event.reason));
  });
})();</script>`;

/** Puts the recorder first in an HTML page (after its charset declaration, if any). */
export function withProblemRecorder(html: string): string {
  for (const pattern of [/<meta charset[^>]*>/i, /<head[^>]*>/i, /<!doctype html>/i]) {
    const match = pattern.exec(html);
    if (match) return html.slice(0, match.index + match[0].length) + problemRecorderScript + html.slice(match.index + match[0].length);
  }
  return problemRecorderScript + html;
}

/** A W3C WebDriver error answer, with the driver's own words. */
export class WebDriverError extends Error {
  constructor(
    readonly command: string,
    readonly code: string,
    message: string,
  ) {
    super(`${command}: ${code}: ${message}`);
    this.name = "WebDriverError";
  }
}

/**
 * One MiniBrowser session. Commands are queued (WebDriver runs one at a time per session, and
 * a window switch must stay next to the command it is for).
 */
export class WebKitSession {
  private queue: Promise<unknown> = Promise.resolve();
  private current: string | undefined;
  /** The session's first tab, kept open and blank: commands need a live current window. */
  private home = "";

  private constructor(
    private base: string,
    private readonly processes: ChildProcess[],
  ) {}

  static async launch(): Promise<WebKitSession> {
    const processes: ChildProcess[] = [];
    try {
      // -displayfd: Xvfb picks a free display and writes its number to fd 3 once it is ready
      const xvfb = spawn(xvfbPath, ["-displayfd", "3", "-nolisten", "tcp"], { stdio: ["ignore", "ignore", "ignore", "pipe"] });
      processes.push(xvfb);
      const display = await new Promise<string>((resolve, reject) => {
        xvfb.once("error", reject);
        xvfb.once("exit", (code) => reject(new Error(`Xvfb exited with ${code}`)));
        xvfb.stdio[3]!.once("data", (data: Buffer) => resolve(String(data).trim()));
      });
      const port = await freePort();
      const driver = spawn(webkitDriverPath, [`--port=${port}`, "--host=127.0.0.1"], {
        env: { ...process.env, DISPLAY: `:${display}` },
        stdio: "ignore",
      });
      processes.push(driver);
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          const status = (await (await fetch(`${base}/status`)).json()) as { value: { ready: boolean } };
          if (status.value.ready) break;
        } catch (error) {
          if (Date.now() > deadline) throw new Error(`WebKitWebDriver did not answer on ${base}`, { cause: error });
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const session = new WebKitSession(base, processes);
      const created = (await session.call("POST", "/session", {
        capabilities: {
          alwaysMatch: {
            browserName: "MiniBrowser",
            // navigation returns at once and open() waits for DOMContentLoaded itself: WebKit's
            // "eager" still waits while a request started during parsing holds the load event
            pageLoadStrategy: "none",
            "webkitgtk:browserOptions": { binary: miniBrowserPath, args: ["--automation"] },
          },
        },
      })) as { sessionId: string };
      session.base = `${base}/session/${created.sessionId}`;
      await session.call("POST", "/timeouts", { script: 120_000, pageLoad: 30_000 });
      session.home = session.current = (await session.call("GET", "/window")) as string;
      return session;
    } catch (error) {
      for (const child of processes) child.kill();
      throw error;
    }
  }

  /** One WebDriver command; the answer's `value`, or a WebDriverError. */
  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(this.base + path, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = (await response.json()) as { value: { error?: string; message?: string } | unknown };
    const value = answer.value as { error?: string; message?: string } | null;
    if (!response.ok && value && typeof value === "object" && value.error) {
      throw new WebDriverError(`${method} ${path}`, value.error, value.message ?? "");
    }
    return answer.value;
  }

  /** Runs `work` after every command queued before it. */
  private run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async use(handle: string): Promise<void> {
    if (this.current === handle) return;
    await this.call("POST", "/window", { handle });
    this.current = handle;
  }

  /** A new tab at `url` (returns after DOMContentLoaded); its window handle. */
  openWindow(url: string): Promise<string> {
    return this.run(async () => {
      const { handle } = (await this.call("POST", "/window/new", { type: "tab" })) as { handle: string };
      await this.use(handle);
      await this.call("POST", "/url", { url });
      const deadline = Date.now() + 30_000;
      const parsed = `return location.href === ${JSON.stringify(new URL(url).href)} && document.readyState !== "loading";`;
      for (;;) {
        // a script sent while the blank document unloads is dropped ("no such frame"): ask again
        const done = await this.call("POST", "/execute/sync", { script: parsed, args: [] }).catch((error: unknown) => {
          if (error instanceof WebDriverError && error.code === "no such frame") return false;
          throw error;
        });
        if (done) return handle;
        if (Date.now() > deadline) throw new Error(`${url} did not reach DOMContentLoaded in 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
  }

  closeWindow(handle: string): Promise<void> {
    return this.run(async () => {
      await this.use(handle);
      await this.call("DELETE", "/window");
      this.current = undefined;
      await this.use(this.home);
    });
  }

  url(handle: string): Promise<string> {
    return this.run(async () => {
      await this.use(handle);
      return (await this.call("GET", "/url")) as string;
    });
  }

  /**
   * Calls the function whose source is `source` with `arg` in the window, awaits it, and
   * returns its value through JSON (so `undefined` members drop out, as in structured clone).
   */
  evaluate(handle: string, source: string, arg: unknown): Promise<unknown> {
    return this.run(async () => {
      await this.use(handle);
      const script = `var done = arguments[arguments.length - 1];
var arg = arguments[0];
var fn = (${source});
Promise.resolve().then(function () { return fn(arg); }).then(function (value) {
  try { done(JSON.stringify({ value: value })); } catch (error) { done(JSON.stringify({ error: "unserializable result: " + error })); }
}, function (error) {
  done(JSON.stringify({ error: String(error) + (error && error.stack ? "\\n" + error.stack : "") }));
});`;
      const answer = JSON.parse((await this.call("POST", "/execute/async", { script, args: [arg ?? null] })) as string) as {
        value?: unknown;
        error?: string;
      };
      if (answer.error !== undefined) throw new Error(`in the page: ${answer.error}`);
      return answer.value;
    });
  }

  /** What the recorder saw in the window and in each of its frames that has one. */
  problems(handle: string): Promise<string[]> {
    return this.run(async () => {
      await this.use(handle);
      const read = "return window.__cometaProblems ? window.__cometaProblems.slice() : [];";
      const problems = (await this.call("POST", "/execute/sync", { script: read, args: [] })) as string[];
      // the transports' own frames (forever-frames under /engine.io/) carry no recorder, and
      // WebDriver waits for a frame to finish loading before it runs a script there
      const frames = (await this.call("POST", "/execute/sync", {
        script: `return Array.prototype.map.call(document.querySelectorAll("iframe"), function (frame, index) {
          return frame.src.indexOf("/engine.io/") === -1 ? index : -1;
        }).filter(function (index) { return index >= 0; });`,
        args: [],
      })) as number[];
      for (const index of frames) {
        try {
          await this.call("POST", "/frame", { id: index });
          problems.push(...((await this.call("POST", "/execute/sync", { script: read, args: [] })) as string[]));
        } catch (error) {
          // a frame gone since it was counted (a closed transport's frame) has nothing to say
          if (!(error instanceof WebDriverError)) throw error;
        } finally {
          await this.call("POST", "/frame/parent", {}).catch(() => undefined);
        }
      }
      // back to the top-level document even if a frame went away while it was read
      await this.call("POST", "/window", { handle });
      return problems;
    });
  }

  async close(): Promise<void> {
    await this.run(() => this.call("DELETE", "")).catch(() => undefined);
    for (const child of this.processes.reverse()) {
      child.kill();
      if (child.exitCode === null && child.signalCode === null) await new Promise((done) => child.once("exit", done));
    }
  }
}
