import type { SessionEvent } from "./events.js";
import type { Rng } from "./rng.js";
import { SimulatorError } from "./simulatorError.js";

/**
 * The real runtime's disorder (docs/real-runtime.md, facts 5–7 and 12–15), reproduced by the
 * simulator's live delivery. Rates are per event (or per abort / resume) and deliberately higher
 * than the real ones (an abort swap was 1 run in 25 there), so that a few turns show every kind.
 */
export interface Untidy {
  /** An ephemeral event is delivered just before the persisted event it hangs off (its `parentId`). */
  readonly ephemeralFirstRate: number;
  /** A `model.*` event created before `assistant.idle` is delivered after it, or after `session.idle`. */
  readonly lateModelRate: number;
  /** An abort writes `assistant.turn_end` before `abort` (both persisted, so history has that order too). */
  readonly abortSwapRate: number;
  /** `session.resume` is delivered twice (same id); history has it once. */
  readonly resumeTwiceRate: number;
  /**
   * Per emitted event, the chance that the runtime destroys the sockets of every client attached to
   * the session: half of it just before the event is delivered, half just after. The session keeps
   * running, so history has what the client missed.
   */
  readonly dropRate: number;
  /**
   * The real runtime's other ephemeral types (`model.*`, `agent.interrupted`, `assistant.usage`,
   * `assistant.streaming_delta`, `session.mcp_*`, …, several outside the SDK's `SessionEvent` union)
   * and its `session.updated` lifecycle notifications.
   */
  readonly realNoise: boolean;
}

/** What the `untidy` preset uses. */
export const UNTIDY_DEFAULTS: Untidy = {
  ephemeralFirstRate: 0.1,
  lateModelRate: 0.3,
  abortSwapRate: 0.3,
  resumeTwiceRate: 0.3,
  dropRate: 0.01,
  realNoise: true,
};

const RATE_KEYS = ["ephemeralFirstRate", "lateModelRate", "abortSwapRate", "resumeTwiceRate", "dropRate"] as const;

/** @throws SimulatorError `invalid_scenario` for a rate outside [0, 1]. */
export function checkUntidy(label: string, untidy: Untidy): void {
  for (const key of RATE_KEYS) {
    const rate = untidy[key];
    if (!(rate >= 0 && rate <= 1)) throw new SimulatorError("invalid_scenario", `${label}.${key} must be within [0, 1], got ${rate}`);
  }
}

/** Draws for one event, all taken when it is emitted so a seed replays the same disorder. */
export interface Dice {
  readonly early: number;
  readonly late: number;
  readonly twice: number;
  readonly drop: number;
  readonly slot: number;
  readonly hold: number;
}

/** Always six draws, whatever the event, so the stream does not depend on burst boundaries. */
export function rollDice(rng: Rng): Dice {
  return { early: rng.next(), late: rng.next(), twice: rng.next(), drop: rng.next(), slot: rng.next(), hold: rng.next() };
}

/** An event waiting in the current burst (everything one session emitted in one synchronous step). */
export interface Planned {
  readonly event: SessionEvent;
  readonly dice: Dice;
}

/** What the burst becomes on the wire: deliveries and socket drops, in order. */
export type Step = { readonly kind: "deliver"; readonly event: SessionEvent } | { readonly kind: "drop" };

/** Disorder the planner introduced, for the stats. */
export interface PlanCounts {
  ephemeralBeforeParent: number;
  lateAfterIdle: number;
  redelivered: number;
}

const isModel = (e: SessionEvent): boolean => e.ephemeral === true && e.type.startsWith("model.");

/** A burst's delivery plan, and the persisted event it holds back for the next burst, if any. */
export interface Plan {
  readonly steps: Step[];
  readonly counts: PlanCounts;
  readonly hold: Planned | undefined;
}

/**
 * Turns one burst (in creation order) into its live delivery. Persisted events keep their relative
 * order, as in the real runtime; only ephemeral events move, and `session.resume` may repeat.
 * `held` is an `assistant.turn_start` an earlier burst held back: it goes out just after the first
 * event that hangs off it (the stream's first delta or `message_start`), else first.
 */
export function planBurst(burst: readonly Planned[], untidy: Untidy, held?: Planned): Plan {
  const counts: PlanCounts = { ephemeralBeforeParent: 0, lateAfterIdle: 0, redelivered: 0 };
  const moved = new Set<Planned>();

  // Late model.* events: after the burst's assistant.idle, or (slot) after the session.idle that follows it.
  let assistantIdle = -1;
  burst.forEach((p, i) => {
    if (p.event.type === "assistant.idle") assistantIdle = i;
  });
  const sessionIdle = assistantIdle < 0 ? -1 : burst.findIndex((p, i) => i > assistantIdle && p.event.type === "session.idle");
  const afterAssistantIdle: Planned[] = [];
  const afterSessionIdle: Planned[] = [];
  const order: Planned[] = [];
  burst.forEach((p, i) => {
    if (i < assistantIdle && isModel(p.event) && p.dice.late < untidy.lateModelRate) {
      (sessionIdle >= 0 && p.dice.slot >= 0.5 ? afterSessionIdle : afterAssistantIdle).push(p);
      moved.add(p);
      counts.lateAfterIdle++;
      return;
    }
    order.push(p);
    if (i === assistantIdle) order.push(...afterAssistantIdle);
    if (i === sessionIdle) order.push(...afterSessionIdle);
  });

  // Early ephemeral events: just before their parent, when the parent is in this burst.
  for (const p of [...order]) {
    if (p.event.ephemeral !== true || moved.has(p) || p.dice.early >= untidy.ephemeralFirstRate) continue;
    const parent = order.findIndex((q) => q.event.id === p.event.parentId);
    const at = order.indexOf(p);
    if (parent < 0 || parent > at) continue;
    order.splice(at, 1);
    order.splice(parent, 0, p);
  }

  if (held !== undefined) {
    const first = order[0];
    const childFirst = first !== undefined && first.event.ephemeral === true && first.event.parentId === held.event.id;
    order.splice(childFirst ? 1 : 0, 0, held);
  }
  // Hold a turn_start back until the stream that hangs off it begins (only if nothing persisted follows it here).
  let hold: Planned | undefined;
  const last = order.findLast((p) => p.event.ephemeral !== true);
  if (last !== undefined && last !== held && last.event.type === "assistant.turn_start" && last.dice.hold < untidy.ephemeralFirstRate) {
    hold = last;
    order.splice(order.indexOf(last), 1);
  }

  const steps: Step[] = [];
  const deliveries = [...order];
  for (const p of order) {
    if (p.event.type === "session.resume" && p.dice.twice < untidy.resumeTwiceRate) {
      deliveries.push(p);
      counts.redelivered++;
    }
  }
  const seen = new Set<Planned>();
  for (const p of deliveries) {
    // A redelivered copy rolls no second drop.
    const first = !seen.has(p);
    seen.add(p);
    const dropBefore = first && p.dice.drop < untidy.dropRate / 2;
    const dropAfter = first && !dropBefore && p.dice.drop < untidy.dropRate;
    if (dropBefore) steps.push({ kind: "drop" });
    steps.push({ kind: "deliver", event: p.event });
    if (dropAfter) steps.push({ kind: "drop" });
  }
  // Counted on the result: an ephemeral event whose parent goes out later (or is held back).
  const later = new Set(hold === undefined ? [] : [hold.event.id]);
  for (let i = order.length - 1; i >= 0; i--) {
    const { event } = order[i] as Planned;
    if (event.ephemeral !== true) later.add(event.id);
    else if (event.parentId !== null && later.has(event.parentId)) counts.ephemeralBeforeParent++;
  }
  return { steps, counts, hold };
}
