/** The outcome of one request inside a flushed batch: each request succeeds or fails on its own. */
export type BatchOutcome<Result> = { readonly ok: true; readonly value: Result } | { readonly ok: false; readonly error: Error };

/** Writes a batch in one transaction; returns one outcome per request, in order. Throwing fails all. */
export type BatchFlush<Request, Result> = (batch: readonly Request[]) => Promise<readonly BatchOutcome<Result>[]>;

/** Options of {@link createGroupCommitter}. */
export interface GroupCommitOptions<Request> {
  /** Weight of a request (e.g. its event count); defaults to 1. */
  readonly weight?: (request: Request) => number;
  /** A batch stops growing at this total weight (a single heavier request still goes alone); default 5000. */
  readonly maxBatchWeight?: number;
  /** Flushes allowed in flight at once; default 1. */
  readonly maxConcurrentFlushes?: number;
  /**
   * With several flushes allowed, a queue at least this heavy is spread over the idle flush slots
   * instead of going in one batch, so one batch is prepared and read back while another is in the
   * database; default 100. Lighter queues go whole: below that, one statement beats two.
   */
  readonly spreadFrom?: number;
  /**
   * Requests with the same key (e.g. a stream id) never ride in two flushes at once, so they
   * commit in submission order even with several flushes in flight.
   */
  readonly key?: (request: Request) => string;
}

/** Queues requests and flushes them in batches. */
export interface GroupCommitter<Request, Result> {
  /** Queues a request; settles with that request's own outcome. */
  submit(request: Request): Promise<Result>;
  /** Resolves when nothing is queued or in flight. */
  drain(): Promise<void>;
}

interface Entry<Request, Result> {
  readonly request: Request;
  readonly resolve: (value: Result) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Group commit: requests that arrive while a flush is in flight wait in a queue and go together in
 * the next flush, so N concurrent appenders pay for one transaction (one fsync) instead of N. Under
 * no load a request flushes on the next microtask — latency is one round trip, not a timer.
 *
 * @example
 * ```ts
 * const committer = createGroupCommitter<number, number>(async (batch) => batch.map((n) => ({ ok: true, value: n * 2 })));
 * const [a, b] = await Promise.all([committer.submit(1), committer.submit(2)]); // one flush of [1, 2]
 * ```
 */
export function createGroupCommitter<Request, Result>(flush: BatchFlush<Request, Result>, options: GroupCommitOptions<Request> = {}): GroupCommitter<Request, Result> {
  const weight = options.weight ?? (() => 1);
  const maxBatchWeight = options.maxBatchWeight ?? 5000;
  const maxConcurrentFlushes = options.maxConcurrentFlushes ?? 1;
  const keyOf = options.key;
  const spreadFrom = options.spreadFrom ?? 100;
  let queue: Entry<Request, Result>[] = [];
  const busyKeys = new Map<string, number>();
  let inFlight = 0;
  let scheduled = false;
  let idleWaiters: (() => void)[] = [];

  function schedule(): void {
    if (scheduled || queue.length === 0 || inFlight >= maxConcurrentFlushes) return;
    scheduled = true;
    // A microtask lets every append issued in the same tick (e.g. a Promise.all) join one batch.
    queueMicrotask(() => {
      scheduled = false;
      while (queue.length > 0 && inFlight < maxConcurrentFlushes && startFlush());
    });
  }

  function takeBatch(): Entry<Request, Result>[] {
    const batch: Entry<Request, Result>[] = [];
    const left: Entry<Request, Result>[] = [];
    // Keys skipped in this pass: later requests with the same key must not overtake them.
    const skipped = new Set<string>();
    let total = 0;
    let full = false;
    const cap = batchCap();
    for (const entry of queue) {
      const key = keyOf?.(entry.request);
      const entryWeight = weight(entry.request);
      if (!full && batch.length > 0 && total + entryWeight > cap) full = true;
      if (full || (key !== undefined && (busyKeys.has(key) || skipped.has(key)))) {
        left.push(entry);
        if (key !== undefined) skipped.add(key);
        continue;
      }
      batch.push(entry);
      total += entryWeight;
    }
    queue = left;
    return batch;
  }

  /** The weight the next batch may grow to: its share of the queue when idle slots can share it. */
  function batchCap(): number {
    const idleSlots = maxConcurrentFlushes - inFlight;
    if (idleSlots < 2) return maxBatchWeight;
    let queued = 0;
    for (const entry of queue) queued += weight(entry.request);
    return queued < spreadFrom ? maxBatchWeight : Math.min(maxBatchWeight, Math.ceil(queued / idleSlots));
  }

  function startFlush(): boolean {
    const batch = takeBatch();
    if (batch.length === 0) return false;
    const keys = keyOf === undefined ? [] : batch.map((entry) => keyOf(entry.request));
    for (const key of keys) busyKeys.set(key, (busyKeys.get(key) ?? 0) + 1);
    inFlight += 1;
    flush(batch.map((entry) => entry.request))
      .then(
        (outcomes) => {
          batch.forEach((entry, index) => {
            const outcome = outcomes[index];
            if (outcome === undefined) entry.reject(new Error("group commit: flush returned fewer outcomes than requests"));
            else if (outcome.ok) entry.resolve(outcome.value);
            else entry.reject(outcome.error);
          });
        },
        (error: unknown) => {
          const reason = error instanceof Error ? error : new Error(String(error));
          for (const entry of batch) entry.reject(reason);
        },
      )
      .finally(() => {
        inFlight -= 1;
        for (const key of keys) {
          const count = (busyKeys.get(key) ?? 1) - 1;
          if (count === 0) busyKeys.delete(key);
          else busyKeys.set(key, count);
        }
        if (queue.length === 0 && inFlight === 0) {
          const waiters = idleWaiters;
          idleWaiters = [];
          for (const wake of waiters) wake();
        }
        schedule();
      })
      .catch(() => undefined);
    return true;
  }

  return {
    submit(request) {
      return new Promise<Result>((resolve, reject) => {
        queue.push({ request, resolve, reject });
        schedule();
      });
    },
    drain() {
      if (queue.length === 0 && inFlight === 0 && !scheduled) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
  };
}
