import { START, isCheckpoint, type Checkpoint } from "./checkpoint.js";
import type { EventHandler, ReadAllOptions, ReadAllResult, SubscribeOptions, Subscription } from "./eventStore.js";
import { StoreError, isStoreError } from "./storeError.js";
import type { WakeSignal } from "./wakeSignal.js";

/** What a {@link startPollingSubscription} needs from its store. */
export interface PollingSource {
  readonly readAll: (options: ReadAllOptions) => Promise<ReadAllResult>;
  readonly wake: WakeSignal;
}

/**
 * The one subscription loop every adapter uses: read a page after the checkpoint, hand events to
 * the handler one at a time, advance the checkpoint only after the handler succeeded, and sleep
 * until a wake-up (in-process append, NOTIFY) or the poll interval. Exactly-once and in-order follow
 * from `readAll` never skipping and the checkpoint moving past each delivered event.
 *
 * Read failures that are not store errors (a dropped connection) are reported and retried at the
 * poll interval; store errors (corruption, closed store) and handler errors end the subscription.
 *
 * @example
 * ```ts
 * const subscription = startPollingSubscription({ readAll: (o) => store.readAll(o), wake }, handler, {});
 * await subscription.close();
 * ```
 */
export function startPollingSubscription(source: PollingSource, handler: EventHandler, options: SubscribeOptions = {}): Subscription {
  const after = options.after ?? START;
  if (!isCheckpoint(after)) throw new StoreError("INVALID_ARGUMENT", `subscribe: invalid checkpoint ${String(after)}`);
  const pollIntervalMs = positive(options.pollIntervalMs, 250, "pollIntervalMs");
  const batchSize = positive(options.batchSize, 500, "batchSize");
  const listener = source.wake.listen();
  let closed = false;
  // A function, not the variable, in the loop: `closed` flips in close(), which flow analysis cannot see.
  const isClosed = (): boolean => closed;

  // A wake-up means something committed, yet `readAll` may still hold it back behind an older open
  // transaction elsewhere: after a wake that read nothing, poll again soon, backing off to the
  // normal interval, instead of sleeping a whole interval on an event that is about to appear.
  const quickPollMs = Math.min(pollIntervalMs, 25);
  let nextWaitMs = pollIntervalMs;

  async function run(): Promise<void> {
    let checkpoint: Checkpoint = after;
    try {
      while (!isClosed()) {
        let page: ReadAllResult;
        try {
          page = await source.readAll({ after: checkpoint, limit: batchSize });
        } catch (error) {
          if (isClosed() || isStoreError(error, "STORE_CLOSED")) return;
          if (isStoreError(error)) throw error;
          options.onError?.(error);
          await listener.wait(pollIntervalMs);
          continue;
        }
        for (const event of page.events) {
          if (isClosed()) return;
          await handler(event);
          checkpoint = event.checkpoint;
        }
        if (page.hasMore || isClosed()) continue;
        const woken = await listener.wait(nextWaitMs);
        nextWaitMs = woken || page.events.length > 0 ? quickPollMs : Math.min(pollIntervalMs, nextWaitMs * 2);
      }
    } catch (error) {
      options.onError?.(error);
      throw error;
    } finally {
      listener.dispose();
    }
  }

  const done = run();
  // Mark `done` handled so a subscriber that never looks at it does not crash the process on a
  // handler error; anyone awaiting `done` still sees the rejection.
  done.catch(() => undefined);
  return {
    done,
    close() {
      closed = true;
      listener.interrupt();
      return done.catch(() => undefined);
    },
  };
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new StoreError("INVALID_ARGUMENT", `subscribe: ${name} must be a positive number`);
  return value;
}
