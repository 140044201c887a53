import type { CoordinationChange } from "./coordination.js";

/** The in-process side of {@link Coordination.onChange}: a set of listeners and a safe broadcast. */
export interface ChangeListeners {
  /** Adds a listener; returns its idempotent unsubscribe function. */
  add(listener: (change: CoordinationChange) => void): () => void;
  /** Tells every listener; a listener that throws is ignored (a change is only a hint). */
  emit(change: CoordinationChange): void;
  readonly size: number;
  clear(): void;
}

/**
 * Creates a {@link ChangeListeners}.
 *
 * @example
 * ```ts
 * const listeners = createChangeListeners();
 * const off = listeners.add((change) => console.log(change));
 * listeners.emit("command");
 * off();
 * ```
 */
export function createChangeListeners(): ChangeListeners {
  const listeners = new Set<(change: CoordinationChange) => void>();
  return {
    add(listener) {
      // A wrapper per registration: the same function added twice is two subscriptions.
      const entry = (change: CoordinationChange): void => listener(change);
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
    emit(change) {
      for (const listener of [...listeners]) {
        try {
          listener(change);
        } catch {
          // A listener's failure must not fail the store call that happened to trigger it.
        }
      }
    },
    get size() {
      return listeners.size;
    },
    clear() {
      listeners.clear();
    },
  };
}
