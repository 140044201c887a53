/** A pending callback; `cancel()` is cheap and idempotent. */
export interface ScheduledTask {
  cancel(): void;
}

/**
 * One timer queue for the whole simulator. Work is scheduled in *simulated* ms and scaled by
 * `timeScale`, so 10,000 sessions waiting for their agent cost 10,000 heap entries and one Node
 * timer, not 10,000 timers.
 */
export interface Scheduler {
  /** Runs `fn` after `simulatedMs * timeScale` real ms. */
  schedule(simulatedMs: number, fn: () => void): ScheduledTask;
  /** Resolves after `simulatedMs * timeScale` real ms. */
  sleep(simulatedMs: number): Promise<void>;
  /** Number of tasks not yet run or cancelled (cancelled tasks may linger until their due time). */
  readonly pending: number;
  /** Cancels everything and stops the timer. */
  dispose(): void;
}

interface Entry {
  readonly due: number;
  readonly seq: number;
  fn: (() => void) | undefined;
}

const before = (a: Entry, b: Entry): boolean => a.due < b.due || (a.due === b.due && a.seq < b.seq);

/**
 * Creates the scheduler. `now` is injectable for tests; it must be monotonic.
 *
 * @example
 * ```ts
 * const scheduler = createScheduler(0.01);
 * await scheduler.sleep(1500); // about 15 real ms
 * ```
 */
export function createScheduler(timeScale: number, now: () => number = () => performance.now()): Scheduler {
  const heap: Entry[] = [];
  let seq = 0;
  let timer: NodeJS.Timeout | undefined;
  let armedFor = Infinity;
  let disposed = false;

  const push = (entry: Entry): void => {
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as Entry;
      if (!before(entry, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = entry;
  };

  const pop = (): Entry | undefined => {
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= heap.length) break;
      const r = l + 1;
      const child = r < heap.length && before(heap[r] as Entry, heap[l] as Entry) ? r : l;
      const c = heap[child] as Entry;
      if (!before(c, last)) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = last;
    return top;
  };

  const arm = (): void => {
    const top = heap[0];
    if (top === undefined || disposed) {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      armedFor = Infinity;
      return;
    }
    if (timer !== undefined && armedFor <= top.due) return;
    if (timer !== undefined) clearTimeout(timer);
    armedFor = top.due;
    timer = setTimeout(tick, Math.max(0, top.due - now()));
    // The server socket keeps a CLI process alive; the queue alone should not keep a test alive.
    timer.unref();
  };

  const tick = (): void => {
    timer = undefined;
    armedFor = Infinity;
    // Read the clock once so that tasks scheduled with zero delay while draining wait for the next tick.
    const limit = now();
    for (let top = heap[0]; top !== undefined && top.due <= limit; top = heap[0]) {
      pop();
      const fn = top.fn;
      top.fn = undefined;
      fn?.();
    }
    arm();
  };

  const schedule = (simulatedMs: number, fn: () => void): ScheduledTask => {
    const entry: Entry = { due: now() + Math.max(0, simulatedMs) * timeScale, seq: seq++, fn };
    if (!disposed) {
      push(entry);
      arm();
    }
    return {
      cancel: () => {
        entry.fn = undefined;
      },
    };
  };

  return {
    schedule,
    sleep: (simulatedMs) =>
      new Promise<void>((resolve) => {
        schedule(simulatedMs, resolve);
      }),
    get pending() {
      return heap.filter((e) => e.fn !== undefined).length;
    },
    dispose: () => {
      disposed = true;
      for (const e of heap) e.fn = undefined;
      heap.length = 0;
      arm();
    },
  };
}
