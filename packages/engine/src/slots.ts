/**
 * A fair (first come, first served) counting semaphore for `maxConcurrent`: sessions wait in the
 * order they asked, and a waiter that gives up (its session ended) leaves the line.
 */
export class Slots {
  private available: number;
  private readonly waiting: { grant: () => void; cancelled: boolean }[] = [];

  constructor(capacity: number) {
    this.available = capacity;
  }

  /** Resolves when a slot is held; `cancel` withdraws a waiter that no longer needs one. */
  acquire(): { readonly granted: Promise<void>; readonly cancel: () => void } {
    if (this.available > 0) {
      this.available--;
      return { granted: Promise.resolve(), cancel: () => undefined };
    }
    let entry!: { grant: () => void; cancelled: boolean };
    const granted = new Promise<void>((resolve) => {
      entry = { grant: resolve, cancelled: false };
      this.waiting.push(entry);
    });
    return { granted, cancel: () => (entry.cancelled = true) };
  }

  release(): void {
    for (;;) {
      const next = this.waiting.shift();
      if (next === undefined) {
        this.available++;
        return;
      }
      if (!next.cancelled) {
        next.grant();
        return;
      }
    }
  }

  get queued(): number {
    return this.waiting.filter((entry) => !entry.cancelled).length;
  }
}
