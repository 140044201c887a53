/**
 * A fair (first come, first served) counting semaphore for `maxConcurrent`: sessions wait in the
 * order they asked, and a waiter that gives up (its session ended) leaves the line.
 */
export class Slots {
  private free: number;
  private readonly waiting: Waiter[] = [];
  /** Waiters still in line (neither granted nor gone): a count, so asking is cheap. */
  private inLine = 0;

  constructor(capacity: number) {
    this.free = capacity;
  }

  /** Resolves when a slot is held; `cancel` withdraws a waiter that no longer needs one. */
  acquire(): { readonly granted: Promise<void>; readonly cancel: () => void } {
    if (this.free > 0) {
      this.free--;
      return { granted: Promise.resolve(), cancel: () => undefined };
    }
    let waiter!: Waiter;
    const granted = new Promise<void>((resolve) => {
      waiter = { grant: resolve, state: "waiting" };
      this.waiting.push(waiter);
    });
    this.inLine++;
    const cancel = () => {
      if (waiter.state !== "waiting") return;
      waiter.state = "gone";
      this.inLine--;
    };
    return { granted, cancel };
  }

  release(): void {
    for (;;) {
      const next = this.waiting.shift();
      if (next === undefined) {
        this.free++;
        return;
      }
      if (next.state === "waiting") {
        next.state = "granted";
        this.inLine--;
        next.grant();
        return;
      }
    }
  }

  /** Waiters in line. */
  get queued(): number {
    return this.inLine;
  }

  /** Slots free now. */
  get available(): number {
    return this.free;
  }
}

interface Waiter {
  readonly grant: () => void;
  state: "waiting" | "granted" | "gone";
}
