/**
 * An engine.io polling endpoint played by msw: it answers the handshake, holds GETs until the
 * test pushes a payload, answers POSTs `ok` (or holds them), and records every request. It
 * intercepts both fetch and jsdom's XMLHttpRequest.
 */
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import type { OpenData } from "../../../src/protocol.js";

export const origin = "http://localhost:3000";
export const engineUrl = `${origin}/engine.io/`;

export interface SeenRequest {
  method: string;
  url: URL;
  headers: Headers;
  credentials: RequestCredentials;
  body: string;
}

type Answer = Response | string;

interface Held {
  request: SeenRequest;
  respond(answer: Answer): void;
}

const toResponse = (answer: Answer): Response =>
  typeof answer === "string"
    ? new HttpResponse(answer, { status: 200, headers: { "Content-Type": "text/plain; charset=UTF-8" } })
    : answer;

export class FakeEngine {
  readonly requests: SeenRequest[] = [];
  readonly heldGets: Held[] = [];
  readonly heldPosts: Held[] = [];
  /** POSTs wait for releasePost() while true. */
  holdPosts = false;
  openData: OpenData = { sid: "sid-1", upgrades: [], pingInterval: 25000, pingTimeout: 20000, maxPayload: 1e6 };
  readonly #downstream: Answer[] = [];
  readonly #scripted: { method: string; answer: (request: SeenRequest) => Answer | Promise<Answer> }[] = [];
  readonly #waiters: { check: () => boolean; resolve: () => void }[] = [];

  readonly handlers = [http.all(engineUrl, ({ request }) => this.#handle(request))];

  get gets(): SeenRequest[] {
    return this.requests.filter((request) => request.method === "GET");
  }

  get posts(): SeenRequest[] {
    return this.requests.filter((request) => request.method === "POST");
  }

  /** The next request of `method` gets this answer instead of the usual one. */
  script(method: "GET" | "POST", answer: Answer | ((request: SeenRequest) => Answer | Promise<Answer>)): void {
    this.#scripted.push({ method, answer: typeof answer === "function" ? answer : () => answer });
  }

  /** Answers the oldest held GET with `payload` (or a whole Response), or keeps it for the next GET. */
  push(payload: Answer): void {
    const held = this.heldGets.shift();
    if (held) held.respond(payload);
    else this.#downstream.push(payload);
  }

  releasePost(answer: Answer = "ok"): void {
    const held = this.heldPosts.shift();
    if (!held) throw new Error("no POST is held");
    held.respond(answer);
  }

  /** Ends every held request, so nothing dangles after a test. */
  releaseAll(): void {
    this.holdPosts = false;
    while (this.heldPosts.length > 0) this.releasePost();
    while (this.heldGets.length > 0) this.heldGets.shift()!.respond("6");
  }

  /** Resolves once `check` holds; checked now and after every request the engine sees. */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ check, resolve }));
  }

  #notify() {
    for (const waiter of [...this.#waiters]) {
      if (waiter.check()) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  async #handle(request: Request): Promise<Response> {
    const seen: SeenRequest = {
      method: request.method,
      url: new URL(request.url),
      headers: request.headers,
      credentials: request.credentials,
      body: request.method === "POST" ? await request.text() : "",
    };
    this.requests.push(seen);
    const scripted = this.#scripted.findIndex((entry) => entry.method === seen.method);
    if (scripted >= 0) {
      const [entry] = this.#scripted.splice(scripted, 1);
      const answer = entry!.answer(seen);
      this.#notify();
      return toResponse(await answer);
    }
    if (seen.method === "GET") {
      if (!seen.url.searchParams.has("sid")) {
        this.#notify();
        return toResponse("0" + JSON.stringify(this.openData));
      }
      const queued = this.#downstream.shift();
      if (queued !== undefined) {
        this.#notify();
        return toResponse(queued);
      }
      return this.#hold(seen, this.heldGets);
    }
    if (seen.method === "POST") {
      if (this.holdPosts) return this.#hold(seen, this.heldPosts);
      this.#notify();
      return toResponse("ok");
    }
    this.#notify();
    return new HttpResponse(null, { status: 405 });
  }

  #hold(request: SeenRequest, list: Held[]): Promise<Response> {
    return new Promise((resolve) => {
      list.push({ request, respond: (answer) => resolve(toResponse(answer)) });
      this.#notify();
    });
  }
}

export interface EngineHarness {
  /** This test's engine. */
  readonly engine: FakeEngine;
  /** Registers something to close after the test, while the engine still answers. */
  cleanup(fn: () => unknown): void;
}

/** Starts msw for the file and gives each test a fresh FakeEngine. */
export function useFakeEngine(): EngineHarness {
  const server = setupServer();
  let engine: FakeEngine | undefined;
  const cleanups: (() => unknown)[] = [];
  // jsdom reports an exception thrown in an XHR handler as a window `error` event, not to
  // vitest: collect them so a throwing callback fails the test
  const uncaught: unknown[] = [];
  const onError = (event: ErrorEvent) => uncaught.push(event.error ?? event.message);
  beforeAll(() => {
    server.listen({ onUnhandledRequest: "error" });
    window.addEventListener("error", onError);
  });
  beforeEach(() => {
    engine = new FakeEngine();
    server.use(...engine.handlers);
    uncaught.length = 0;
  });
  afterEach(async () => {
    engine?.releaseAll();
    for (const fn of cleanups.splice(0)) await fn();
    engine?.releaseAll();
    server.resetHandlers();
    expect(uncaught, "uncaught errors in XHR/fetch callbacks").toEqual([]);
  });
  afterAll(() => {
    window.removeEventListener("error", onError);
    server.close();
  });
  return {
    get engine() {
      if (!engine) throw new Error("no engine outside a test");
      return engine;
    },
    cleanup: (fn) => void cleanups.push(fn),
  };
}
