import { fc } from "@fast-check/vitest";
import { describe, expect, test } from "vitest";
import { initialTransition, transition } from "xstate";
import { fastInitialSnapshot, fastTransition } from "../src/fastTransition.js";
import { AGENT_PRODUCER, resolveSettings, sessionMachine, type SessionEvent, type SessionInput, type SessionSnapshot } from "../src/index.js";
import { happeningsArb, input, numRuns, observable, runsOf, simulate } from "./harness.js";

/** XState's own answer: its pure `transition()`. */
function reference(snapshot: SessionSnapshot, event: SessionEvent): SessionSnapshot {
  return transition(sessionMachine, snapshot, event)[0];
}

function initial(given: SessionInput): SessionSnapshot {
  return initialTransition(sessionMachine, given)[0];
}

/**
 * Events of every type with fields drawn from small pools, so that guards go both ways: prompt ids
 * that are and are not queued or in flight, late and early deadlines, both producers.
 */
const promptIds = ["p-0", "p-1", "p-2", "p-3", "stray"];
const anyEvent: fc.Arbitrary<SessionEvent> = fc.integer({ min: 0, max: 40_000 }).chain((at) =>
  fc.oneof(
    fc.record({ type: fc.constant("reservation.succeeded" as const), sessionId: fc.constantFrom("s1", "s2"), at: fc.constant(at) }),
    fc.record({
      type: fc.constant("reservation.failed" as const),
      failure: fc.constantFrom("transient" as const, "fatal" as const, "policy_blocked" as const),
      message: fc.constantFrom("x", ""),
      random: fc.option(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { nil: undefined }),
      at: fc.constant(at),
    }),
    fc.record({ type: fc.constant("agent.started" as const), producer: fc.constantFrom(AGENT_PRODUCER, "local"), at: fc.constant(at) }),
    fc.record({ type: fc.constant("remote-url.published" as const), url: fc.constantFrom("https://github.com/t/1", "https://github.com/t/2"), at: fc.constant(at) }),
    fc.record({ type: fc.constant("prompt.submitted" as const), promptId: fc.constantFrom(...promptIds), text: fc.constantFrom("a", "b"), at: fc.constant(at) }),
    fc.record({ type: fc.constant("prompt.dispatching" as const), promptId: fc.constantFrom(...promptIds), at: fc.constant(at) }),
    fc.record({ type: fc.constant("prompt.dispatched" as const), promptId: fc.constantFrom(...promptIds), messageId: fc.constantFrom("m1", "m2"), at: fc.constant(at) }),
    fc.record({ type: fc.constant("prompt.dispatch-failed" as const), promptId: fc.constantFrom(...promptIds), message: fc.constant("x"), requeue: fc.boolean(), at: fc.constant(at) }),
    fc.record({ type: fc.constant("assistant.delta" as const), messageId: fc.constant("a1"), text: fc.constant("d"), at: fc.constant(at) }),
    fc.record({ type: fc.constant("turn.progressed" as const), at: fc.constant(at) }),
    fc.record({ type: fc.constant("assistant.message" as const), messageId: fc.constantFrom("a1", "a2"), text: fc.constantFrom("reply", ""), at: fc.constant(at) }),
    fc.record({ type: fc.constant("turn.idle" as const), aborted: fc.boolean(), at: fc.constant(at) }),
    fc.record({ type: fc.constant("turn.abort-requested" as const), at: fc.constant(at) }),
    fc.record({ type: fc.constant("session.errored" as const), message: fc.constant("boom"), at: fc.constant(at) }),
    fc.record({ type: fc.constant("deadline.fired" as const), deadline: fc.constantFrom("reservation" as const, "retry" as const, "agent-start" as const, "turn-stall" as const), at: fc.constant(at) }),
    fc.record({ type: fc.constant("close.requested" as const), reason: fc.option(fc.constant("done"), { nil: undefined }), at: fc.constant(at) }),
    fc.record({ type: fc.constant("session.resumed" as const), at: fc.constant(at) }),
  ),
);

describe("fastTransition: the compiled table gives XState's snapshot", () => {
  test("from the initial snapshot, through any sequence of any events, step by step", () => {
    let answered = 0;
    let asked = 0;
    fc.assert(
      fc.property(fc.array(anyEvent, { minLength: 1, maxLength: 60 }), (events) => {
        // `mixed` goes the way the light actor goes (table first, XState where it cannot answer);
        // `pure` is XState alone. Both must agree after every event, and so must one step of each
        // from the mixed snapshot (which may have been built by either).
        let mixed = fastInitialSnapshot(input) as SessionSnapshot;
        let pure = initial(input);
        expect(observable(mixed)).toEqual(observable(pure));
        for (const event of events) {
          const fast = fastTransition(mixed, event);
          asked++;
          if (fast !== undefined) {
            answered++;
            expect(observable(fast)).toEqual(observable(reference(mixed, event)));
          }
          mixed = fast ?? reference(mixed, event);
          pure = reference(pure, event);
          expect(observable(mixed)).toEqual(observable(pure));
        }
      }),
      { numRuns },
    );
    // Not vacuous: most events are answered by the table.
    expect(answered / asked).toBeGreaterThan(0.5);
  });

  test("along simulated runs of an engine (realistic logs: turns, retries, crashes, late events)", () => {
    fc.assert(
      fc.property(happeningsArb({ crash: 4 }), fc.array(anyEvent, { maxLength: 6 }), (happenings, late) => {
        const run = simulate(happenings, { finish: "none" });
        let mixed = fastInitialSnapshot(input);
        let pure = initial(input);
        expect(mixed).toBeDefined();
        if (mixed === undefined) return;
        for (const event of [...run.log.slice(1), ...run.trailing, ...late]) {
          if (event.type === "session.requested") continue;
          mixed = fastTransition(mixed, event) ?? reference(mixed, event);
          pure = reference(pure, event);
          expect(observable(mixed)).toEqual(observable(pure));
        }
      }),
      { numRuns },
    );
  });

  test("the initial snapshot is XState's, for any input", () => {
    fc.assert(
      fc.property(
        fc.record({ owner: fc.constantFrom("octo", "a-b"), name: fc.constantFrom("demo", "x.y") }),
        fc.integer({ min: 1, max: 600_000 }),
        fc.nat(),
        (repository, reservationTimeoutMs, requestedAt) => {
          const given: SessionInput = { repository, settings: resolveSettings({ reservationTimeoutMs }), requestedAt };
          const fast = fastInitialSnapshot(given);
          expect(fast).toBeDefined();
          expect(observable(fast as SessionSnapshot)).toEqual(observable(initial(given)));
        },
      ),
      { numRuns: runsOf(200) },
    );
  });

  test("every event of an ordinary session is answered by the table (the point of it)", () => {
    const events: SessionEvent[] = [
      { type: "prompt.submitted", promptId: "p-0", text: "hi", at: 1 },
      { type: "reservation.succeeded", sessionId: "s1", at: 2 },
      { type: "remote-url.published", url: "https://github.com/t/1", at: 3 },
      { type: "agent.started", producer: AGENT_PRODUCER, at: 4 },
      { type: "prompt.dispatching", promptId: "p-0", at: 5 },
      { type: "prompt.dispatched", promptId: "p-0", messageId: "m1", at: 6 },
      { type: "assistant.delta", messageId: "a1", text: "h", at: 7 },
      { type: "turn.progressed", at: 8 },
      { type: "prompt.submitted", promptId: "p-1", text: "next", at: 9 },
      { type: "assistant.message", messageId: "a1", text: "hello", at: 10 },
      { type: "turn.idle", aborted: false, at: 11 },
      { type: "session.resumed", at: 12 },
    ];
    let snapshot = fastInitialSnapshot(input);
    expect(snapshot).toBeDefined();
    for (const event of events) {
      if (snapshot === undefined) break;
      const next = fastTransition(snapshot, event);
      expect(next, `${JSON.stringify(snapshot.value)} + ${event.type}`).toBeDefined();
      snapshot = next;
    }
    expect(snapshot?.value).toBe("ready");
    expect(snapshot?.context.prompts.map((prompt) => prompt.status)).toEqual(["completed", "queued"]);
  });

  test("ending answers from the table too: the final state's entry actions run and the output is the machine's", () => {
    const ready = fastTransition(fastTransition(fastInitialSnapshot(input) as SessionSnapshot, { type: "reservation.succeeded", sessionId: "s1", at: 1 }) as SessionSnapshot, {
      type: "agent.started",
      producer: AGENT_PRODUCER,
      at: 2,
    }) as SessionSnapshot;
    const queued = fastTransition(ready, { type: "prompt.submitted", promptId: "p-9", text: "late", at: 3 }) as SessionSnapshot;
    for (const event of [{ type: "close.requested", reason: "bye", at: 4 }, { type: "session.errored", message: "x", at: 4 }] as const) {
      const ended = fastTransition(queued, event);
      expect(ended?.status).toBe("done");
      expect(observable(ended as SessionSnapshot)).toEqual(observable(reference(queued, event)));
      expect(ended?.output?.prompts).toEqual([expect.objectContaining({ id: "p-9", status: "undelivered" })]);
    }
  });
});
