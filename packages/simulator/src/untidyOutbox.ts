import type { SessionEvent } from "./events.js";
import type { Rng } from "./rng.js";
import type { ScheduledTask, Scheduler } from "./scheduler.js";
import type { UntidyStatsRecord } from "./stats.js";
import { planBurst, rollDice, type Planned, type Untidy } from "./untidy.js";

/** Longest a held-back `assistant.turn_start` waits for its stream (simulated ms). */
const HOLD_LIMIT_MS = 1000;

/** Where the outbox sends a session's events. */
export interface OutboxSink {
  deliver(event: SessionEvent): void;
  /** Destroys the sockets of the clients attached to the session; returns how many were open. */
  drop(): number;
}

/**
 * A session's live delivery under {@link Untidy}: events emitted in one synchronous step (a burst)
 * are held until the step ends, then delivered in the planned disorder, with any socket drops.
 */
export class UntidyOutbox {
  readonly #untidy: Untidy;
  readonly #rng: Rng;
  readonly #sink: OutboxSink;
  readonly #stats: UntidyStatsRecord;
  readonly #scheduler: Scheduler;
  #burst: Planned[] = [];
  #held: Planned | undefined;
  #release: ScheduledTask | undefined;

  constructor(untidy: Untidy, rng: Rng, sink: OutboxSink, stats: UntidyStatsRecord, scheduler: Scheduler) {
    this.#untidy = untidy;
    this.#rng = rng;
    this.#sink = sink;
    this.#stats = stats;
    this.#scheduler = scheduler;
  }

  push(event: SessionEvent): void {
    this.#burst.push({ event, dice: rollDice(this.#rng) });
    if (this.#burst.length === 1) {
      queueMicrotask(() => {
        this.flush();
      });
    }
  }

  /** Delivers the burst now (also called by the microtask that ends it). */
  flush(): void {
    const burst = this.#burst;
    if (burst.length === 0) return;
    this.#burst = [];
    const held = this.#takeHeld();
    const { steps, counts, hold } = planBurst(burst, this.#untidy, held);
    this.#stats.ephemeralBeforeParent += counts.ephemeralBeforeParent;
    this.#stats.lateAfterIdle += counts.lateAfterIdle;
    this.#stats.redelivered += counts.redelivered;
    for (const step of steps) {
      if (step.kind === "deliver") this.#sink.deliver(step.event);
      else if (this.#sink.drop() > 0) this.#stats.drops++;
    }
    if (hold !== undefined) {
      this.#held = hold;
      // A turn that never streams (a stall, a long permission wait) must not keep its turn_start forever.
      this.#release = this.#scheduler.schedule(HOLD_LIMIT_MS, () => {
        const late = this.#takeHeld();
        if (late !== undefined) this.#sink.deliver(late.event);
      });
    }
  }

  #takeHeld(): Planned | undefined {
    const held = this.#held;
    this.#held = undefined;
    this.#release?.cancel();
    this.#release = undefined;
    return held;
  }
}
