import type { SessionEvent } from "./events.js";
import type { Rng } from "./rng.js";
import type { Behaviour } from "./scenario.js";
import type { UntidyStatsRecord } from "./stats.js";
import { UntidyOutbox } from "./untidyOutbox.js";

/** A client connection as a session sees it: somewhere to send notifications. */
export interface Attachment {
  readonly id: number;
  notify(method: string, params: unknown): void;
  /** False once the socket is closed (its `close` may not have been handled yet). */
  readonly open: boolean;
  /** Closes the underlying socket (fault injection). */
  drop(): void;
}

/** What delivery draws on: the scenario's faults and the two random streams. */
export interface DeliveryDeps {
  readonly sessionId: string;
  readonly behaviour: Behaviour;
  /** The main stream: reorder and duplicate draws. */
  readonly rng: Rng;
  /** The untidy behaviour's own stream (its outbox). */
  readonly disorderRng: Rng;
  readonly untidyStats: UntidyStatsRecord;
}

/**
 * Live delivery of one session's events to the clients attached to it, with the scenario's
 * reorder and duplicate faults, and, when the behaviour is untidy, through an {@link UntidyOutbox}.
 * History is not its concern: events reach it already appended to the log.
 */
export class SessionDelivery {
  readonly attached = new Set<Attachment>();
  readonly #deps: DeliveryDeps;
  #held: SessionEvent | undefined;
  /** Set when the behaviour is untidy: every delivery goes through it. */
  readonly #outbox: UntidyOutbox | undefined;

  constructor(deps: DeliveryDeps) {
    this.#deps = deps;
    const untidy = deps.behaviour.untidy;
    if (untidy !== null) {
      const sink = { deliver: (event: SessionEvent) => this.#deliver(event), drop: () => this.dropAttached() };
      this.#outbox = new UntidyOutbox(untidy, deps.disorderRng, sink, deps.untidyStats);
    }
  }

  /** Sends `event` on to every attached connection (now, or as the outbox plans). */
  push(event: SessionEvent): void {
    if (this.#outbox === undefined) this.#deliver(event);
    else this.#outbox.push(event);
  }

  /** Drops every attached connection (fault injection); returns how many were open. */
  dropAttached(): number {
    let open = 0;
    for (const connection of [...this.attached]) {
      if (!connection.open) continue;
      open++;
      connection.drop();
    }
    return open;
  }

  #deliver(event: SessionEvent): void {
    const { duplicateRate, reorderRate } = this.#deps.behaviour;
    // Draw only when a rate is set, so fault-free scenarios consume no randomness here.
    if (reorderRate > 0 && this.#held === undefined && this.#deps.rng.next() < reorderRate) {
      // Held until the next event of the same synchronous burst, or the end of it.
      this.#held = event;
      queueMicrotask(() => {
        this.#flushHeld();
      });
      return;
    }
    this.#broadcast(event);
    if (duplicateRate > 0 && this.#deps.rng.next() < duplicateRate) this.#broadcast(event);
    this.#flushHeld();
  }

  #flushHeld(): void {
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined) this.#broadcast(held);
  }

  #broadcast(event: SessionEvent): void {
    for (const connection of this.attached) connection.notify("session.event", { sessionId: this.#deps.sessionId, event });
  }
}
