import type { Slots } from "./slots.js";

/** One session's place in the engine's concurrency line: at most one slot held, given back once. */
export class SlotHold {
  private held = false;
  private request: { cancel: () => void } | undefined;

  constructor(private readonly slots: Slots) {}

  /**
   * Resolves once a slot is held. `stillWanted` is asked when it is granted: a session that ended
   * (or stopped) while waiting in line hands the slot straight on.
   */
  async acquire(stillWanted: () => boolean): Promise<void> {
    if (this.held) return;
    const request = this.slots.acquire();
    this.request = request;
    await request.granted;
    this.request = undefined;
    this.held = true;
    if (!stillWanted()) this.release();
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    this.slots.release();
  }

  /** Leaves the line, if waiting (a waiting `acquire` then never resolves). */
  cancel(): void {
    this.request?.cancel();
  }
}
