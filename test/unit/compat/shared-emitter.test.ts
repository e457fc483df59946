// @vitest-environment node
/**
 * The emitter of dist/socket.io.min.js (cometa's contract on socket.io-client's
 * component-emitter) holds to the same contract as src/emitter.ts: the whole of
 * test/unit/emitter.test.ts runs here again, with cometa's emitter replaced by it.
 */
import { vi } from "vitest";

vi.mock("../../../src/emitter.js", () => import("../../../src/compat/shared-emitter.js"));

await import("../emitter.test.js");
