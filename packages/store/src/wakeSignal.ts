/**
 * A level-triggered "something was appended" signal. Level, not edge: a wake-up that arrives while
 * a subscriber is busy reading is remembered, so the subscriber reads again instead of sleeping
 * through it.
 */
export interface WakeSignal {
  /** Wakes every waiter (and marks every listener dirty). */
  notify(): void;
  /** Registers a listener; returns its handle. */
  listen(): WakeListener;
}

/** One subscriber's view of a {@link WakeSignal}. */
export interface WakeListener {
  /** Resolves on the next notify (or immediately if one came since the last wait), or after `ms`. */
  wait(ms: number): Promise<boolean>;
  /** Ends a pending wait now. */
  interrupt(): void;
  /** Stops listening. */
  dispose(): void;
}

/**
 * Creates a {@link WakeSignal}.
 *
 * @example
 * ```ts
 * const signal = createWakeSignal();
 * const listener = signal.listen();
 * setTimeout(() => signal.notify(), 10);
 * await listener.wait(1000); // returns after ~10 ms
 * ```
 */
export function createWakeSignal(): WakeSignal {
  const listeners = new Set<{ dirty: boolean; resolve: ((woken: boolean) => void) | undefined }>();
  return {
    notify() {
      for (const state of listeners) {
        state.dirty = true;
        state.resolve?.(true);
      }
    },
    listen() {
      const state: { dirty: boolean; resolve: ((woken: boolean) => void) | undefined } = { dirty: false, resolve: undefined };
      listeners.add(state);
      return {
        wait(ms) {
          if (state.dirty) {
            state.dirty = false;
            return Promise.resolve(true);
          }
          return new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => done(false), ms);
            function done(woken: boolean): void {
              clearTimeout(timer);
              state.resolve = undefined;
              state.dirty = false;
              resolve(woken);
            }
            state.resolve = done;
          });
        },
        interrupt() {
          state.resolve?.(false);
        },
        dispose() {
          state.resolve?.(false);
          listeners.delete(state);
        },
      };
    },
  };
}
