import { fc } from "@fast-check/vitest";
import { transition } from "xstate";
import { describe, expect, test } from "vitest";
import { isFinal, lifecycleState, promptToDispatch, replay, sessionMachine, wantsReservation, type SessionEvent } from "../src/index.js";
import { happeningsArb, input, invariant, numRuns, sameSnapshot, settings, simulate } from "./harness.js";

describe("property 2: reservation and agent-start timeouts end in failed with the right phase, never in ready", () => {
  test("a create that never succeeds ends failed while reserving", () => {
    let timeouts = 0;
    fc.assert(
      fc.property(happeningsArb({ outcomes: ["transient"], close: 0, error: 0 }), (happenings) => {
        const run = simulate(happenings, { finish: "wait" });
        const failure = run.final.context.failure;
        invariant(lifecycleState(run.final) === "failed" && failure?.phase === "reserving", `ended ${lifecycleState(run.final)}/${String(failure?.phase)}`);
        invariant(failure.reason === "timeout" || failure.reason === "retries-exhausted", `reason ${failure.reason}`);
        invariant(run.visited.every((state) => state === "reserving" || state === "failed"), "never past reserving");
        if (failure.reason === "timeout") {
          timeouts += 1;
          const last = run.log.at(-1);
          invariant(last?.type === "deadline.fired" && last.deadline === "reservation" && last.at >= input.requestedAt + settings.reservationTimeoutMs, "the reservation deadline, when due");
        }
      }),
      { numRuns },
    );
    expect(timeouts).toBeGreaterThan(numRuns / 10);
  });

  test("an agent that never starts ends failed while awaiting the agent", () => {
    fc.assert(
      fc.property(happeningsArb({ outcomes: ["succeeded"], producers: ["local", "cli"], close: 0, error: 0 }), (happenings) => {
        const run = simulate(happenings, { finish: "wait" });
        const failure = run.final.context.failure;
        const reservedAt = run.log.find((event) => event.type === "reservation.succeeded")?.at;
        const phase = reservedAt === undefined ? "reserving" : "awaiting-agent";
        invariant(lifecycleState(run.final) === "failed" && failure?.phase === phase && failure.reason === "timeout", `ended ${lifecycleState(run.final)}/${String(failure?.phase)}/${String(failure?.reason)}`);
        invariant(!run.visited.includes("ready") && !run.visited.includes("streaming"), "never ready");
        const last = run.log.at(-1);
        const due = reservedAt === undefined ? input.requestedAt + settings.reservationTimeoutMs : reservedAt + settings.agentStartTimeoutMs;
        invariant(last?.type === "deadline.fired" && last.deadline === (reservedAt === undefined ? "reservation" : "agent-start") && last.at >= due, "its own deadline, when due");
        invariant(run.final.context.prompts.every((prompt) => prompt.status === "undelivered"), "every prompt is reported undelivered");
      }),
      { numRuns },
    );
  });

  test("in any interleaving, a timeout is final: no later ready", () => {
    fc.assert(
      fc.property(happeningsArb(), (happenings) => {
        const run = simulate(happenings, { finish: "wait" });
        const timedOut = run.visited.findIndex((state, index) => state === "failed" && run.log[index + 1]?.type === "deadline.fired");
        if (timedOut === -1) return;
        invariant(run.visited.slice(timedOut).every((state) => state === "failed"), "failed absorbs");
      }),
      { numRuns },
    );
  });
});

describe("property 3: policy_blocked ends in blocked, with no retry and no dispatch at any later point", () => {
  test("blocked is terminal and asks for nothing", () => {
    let blockedRuns = 0;
    fc.assert(
      fc.property(happeningsArb({ outcomes: ["transient", "policy_blocked", "succeeded"] }), (happenings) => {
        const run = simulate(happenings, { finish: "none" });
        const blockedAt = run.log.findIndex((event) => event.type === "reservation.failed" && event.failure === "policy_blocked");
        if (blockedAt === -1) {
          invariant(lifecycleState(run.final) !== "blocked", "blocked only after policy_blocked");
          return;
        }
        blockedRuns += 1;
        // The log is what the live actor accepted: it ends at the policy_blocked outcome.
        invariant(blockedAt === run.log.length - 1, "nothing is accepted after policy_blocked");
        invariant(lifecycleState(run.final) === "blocked" && run.final.context.failure?.reason === "policy_blocked", "ends blocked");
        invariant(run.final.context.deadlines.retry === null && !wantsReservation(run.final), "no retry is scheduled or wanted");
        invariant(promptToDispatch(run.final) === undefined, "nothing to dispatch");
        invariant(run.final.context.prompts.every((prompt) => prompt.status === "undelivered"), "queued prompts are reported undelivered");
        invariant(!run.trailing.some((event) => event.type === "prompt.dispatching"), "the engine never dispatched afterwards");
        invariant(run.final.output?.state === "blocked", "the outcome says blocked");
      }),
      { numRuns },
    );
    expect(blockedRuns).toBeGreaterThan(numRuns / 4);
  });
});

const anyEvent: fc.Arbitrary<SessionEvent> = fc.oneof(
  fc.record({ type: fc.constant("reservation.succeeded" as const), sessionId: fc.constant("s9"), at: fc.nat() }),
  fc.record({ type: fc.constant("reservation.failed" as const), failure: fc.constantFrom("transient" as const, "fatal" as const, "policy_blocked" as const), message: fc.constant("x"), at: fc.nat() }),
  fc.record({ type: fc.constant("agent.started" as const), producer: fc.constantFrom("copilot-agent", "local"), at: fc.nat() }),
  fc.record({ type: fc.constant("remote-url.published" as const), url: fc.constant("https://github.com/copilot/tasks/late"), at: fc.nat() }),
  fc.record({ type: fc.constant("prompt.submitted" as const), promptId: fc.constantFrom("p1", "late"), text: fc.constant("late"), at: fc.nat() }),
  fc.record({ type: fc.constant("prompt.dispatching" as const), promptId: fc.constantFrom("p1", "p2", "late"), at: fc.nat() }),
  fc.record({ type: fc.constant("prompt.dispatched" as const), promptId: fc.constantFrom("p1", "p2"), messageId: fc.constant("m-late"), at: fc.nat() }),
  fc.record({ type: fc.constant("prompt.dispatch-failed" as const), promptId: fc.constantFrom("p1", "p2"), message: fc.constant("x"), requeue: fc.boolean(), at: fc.nat() }),
  fc.record({ type: fc.constant("assistant.message" as const), messageId: fc.constant("a"), text: fc.constant("late"), at: fc.nat() }),
  fc.record({ type: fc.constant("turn.idle" as const), aborted: fc.boolean(), at: fc.nat() }),
  fc.record({ type: fc.constant("session.errored" as const), message: fc.constant("late"), at: fc.nat() }),
  fc.record({ type: fc.constantFrom("deadline.fired" as const), deadline: fc.constantFrom("reservation" as const, "retry" as const, "agent-start" as const, "turn-stall" as const), at: fc.constant(Number.MAX_SAFE_INTEGER) }),
  fc.record({ type: fc.constant("close.requested" as const), reason: fc.constant("again"), at: fc.nat() }),
  fc.record({ type: fc.constant("session.resumed" as const), at: fc.nat() }),
  fc.record({ type: fc.constant("turn.abort-requested" as const), at: fc.nat() }),
);

describe("property 5: final states absorb", () => {
  test("every event after a final state leaves the snapshot as it is (pure transition and replay)", () => {
    let finals = 0;
    fc.assert(
      fc.property(happeningsArb(), fc.array(anyEvent, { minLength: 1, maxLength: 8 }), (happenings, late) => {
        const run = simulate(happenings, { finish: "wait" });
        if (!isFinal(lifecycleState(run.final))) return;
        finals += 1;
        let snapshot = run.final;
        for (const event of late) {
          const [next] = transition(sessionMachine, snapshot, event);
          invariant(sameSnapshot(next, run.final), `${lifecycleState(run.final)} absorbs ${event.type}`);
          snapshot = next;
        }
        invariant(sameSnapshot(replay([...run.log, ...run.trailing, ...late]), run.final), "replay ignores trailing events");
      }),
      { numRuns },
    );
    expect(finals).toBeGreaterThan(numRuns / 2);
  });
});
