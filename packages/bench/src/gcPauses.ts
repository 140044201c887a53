import { PerformanceObserver, performance } from "node:perf_hooks";

/** A garbage-collection pause of this process, on the caller's clock. */
export interface GcPause {
  readonly at: number;
  readonly ms: number;
}

/**
 * Records this process's garbage-collection pauses from now until `stop()`, with start times moved
 * onto `clock` (e.g. the monotonic clock another process stamps with), so they can be lined up
 * with samples measured on it.
 */
export function gcPausesOn(clock: () => number): { pauses(): readonly GcPause[]; stop(): void } {
  const offset = clock() - performance.now();
  const pauses: GcPause[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) pauses.push({ at: entry.startTime + offset, ms: entry.duration });
  });
  observer.observe({ entryTypes: ["gc"] });
  return {
    pauses: () => {
      // Entries still buffered in the observer are delivered asynchronously: take them now.
      for (const entry of observer.takeRecords()) pauses.push({ at: entry.startTime + offset, ms: entry.duration });
      return pauses;
    },
    stop: () => observer.disconnect(),
  };
}
