/**
 * What `rememberUpgrade` keeps: per endpoint, the transport an earlier session upgraded to, so
 * the next session starts there and skips the probe. Kept in the environment's storage
 * (sessionStorage in browsers); without one, nothing is remembered.
 */
import type { KeyValueStorage } from "./env.js";

const keyPrefix = "cometa:transport:";

export interface TransportMemory {
  /** The transport remembered for this endpoint, if any. */
  recall(): string | undefined;
  remember(name: string): void;
  /** The remembered transport failed here: start the usual way next time. */
  forget(): void;
}

export function transportMemory(storage: KeyValueStorage | undefined, endpoint: string): TransportMemory {
  const key = keyPrefix + endpoint;
  const write = (name: string) => storage && storage.setItem(key, name);
  return {
    recall: () => (storage && storage.getItem(key)) || undefined,
    remember: write,
    forget: () => write(""),
  };
}

/**
 * A storage that lives as long as the object holding it: the sessions of one ReconnectingSocket
 * share what worked even where there is no sessionStorage.
 */
export function volatileStorage(): KeyValueStorage {
  const items: Record<string, string> = Object.create(null);
  return { getItem: (key) => (key in items ? items[key]! : null), setItem: (key, value) => void (items[key] = value) };
}
