import type { SessionEvent } from "./events.js";
import type { Rng } from "./rng.js";
import type { UntidyStatsRecord } from "./stats.js";
import { planBurst, rollDice, type Planned, type Untidy } from "./untidy.js";

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
  #burst: Planned[] = [];
  #held: Planned | undefined;

  constructor(untidy: Untidy, rng: Rng, sink: OutboxSink, stats: UntidyStatsRecord) {
    this.#untidy = untidy;
    this.#rng = rng;
    this.#sink = sink;
    this.#stats = stats;
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
    // Released by the session's next burst (its stream, a permission request, an abort), never by a
    // timer: a timer can share a scheduler tick with the turn's own and make the order depend on load.
    this.#held = hold;
  }

  #takeHeld(): Planned | undefined {
    const held = this.#held;
    this.#held = undefined;
    return held;
  }
}
