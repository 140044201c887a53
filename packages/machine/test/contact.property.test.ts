import { fc } from "@fast-check/vitest";
import { describe, expect, test } from "vitest";
import { lifecycleState, type SessionLogEvent } from "../src/index.js";
import { happeningsArb, invariant, numRuns, settings, simulate } from "./harness.js";

/**
 * Time spent in contact with the runtime between `from` and `to`, read off the log's
 * `runtime.disconnected` / `runtime.reconnected` events: what a deadline that waits on the runtime
 * is allowed to count.
 */
function timeInContact(log: readonly SessionLogEvent[], from: number, to: number): number {
  let inContact = true;
  let since = from;
  let total = 0;
  for (const event of log) {
    if (event.at > to) break;
    if (event.type === "runtime.disconnected" && inContact) {
      if (event.at > from) total += event.at - Math.max(since, from);
      inContact = false;
    } else if (event.type === "runtime.reconnected" && !inContact) {
      inContact = true;
      since = Math.max(event.at, from);
    }
  }
  if (inContact) total += to - Math.max(since, from);
  return total;
}

/** The events that (re)start the turn's stall window: the turn's start, every sign of life, an abort. */
const stallRestarts = new Set<SessionLogEvent["type"]>(["prompt.dispatching", "prompt.dispatched", "assistant.delta", "turn.progressed", "assistant.message", "session.resumed", "turn.abort-requested"]);

describe("property: deadlines count only time in contact with the runtime", () => {
  test("no session fails by a deadline that came due while out of contact, unless the out-of-contact limit passed", () => {
    let outOfContactRuns = 0;
    let verdicts = 0;
    let unreachable = 0;
    fc.assert(
      fc.property(happeningsArb({ contact: 25, blindFiring: 10 }, 60), fc.constantFrom("wait" as const, "none" as const), (happenings, finish) => {
        const run = simulate(happenings, { finish });
        if (run.log.some((event) => event.type === "runtime.disconnected")) outOfContactRuns += 1;
        for (const [index, event] of run.log.entries()) {
          if (event.type !== "deadline.fired") continue;
          const before = run.snapshots[index - 1];
          const after = run.snapshots[index];
          if (before === undefined || after === undefined || after.status !== "done" || before.status === "done") continue;
          const reason = after.context.failure?.reason;
          if (reason === "runtime-unreachable") {
            unreachable += 1;
            // Out of contact all along since the loss, and for the whole limit.
            const lostAt = before.context.contactLostAt;
            invariant(lostAt !== null && timeInContact(run.log, lostAt, event.at) === 0, "the limit ends a session only while it is out of contact");
            invariant(event.at - lostAt >= settings.unreachableTimeoutMs, "only once the limit has passed");
            continue;
          }
          if (event.deadline === "agent-start" && reason === "timeout") {
            verdicts += 1;
            const reservedAt = run.log.find((logged) => logged.type === "reservation.succeeded")?.at;
            invariant(reservedAt !== undefined, "reserved before awaiting the agent");
            invariant(before.context.contactLostAt === null, "judged in contact");
            invariant(timeInContact(run.log, reservedAt, event.at) >= settings.agentStartTimeoutMs, "the agent had its whole window in contact");
          }
          if (event.deadline === "turn-stall" && reason === "turn-stalled") {
            verdicts += 1;
            let restartedAt = 0;
            for (const earlier of run.log.slice(0, index)) if (stallRestarts.has(earlier.type) || (earlier.type === "deadline.fired" && earlier.deadline === "turn-stall")) restartedAt = earlier.at;
            invariant(before.context.contactLostAt === null, "judged in contact");
            invariant(timeInContact(run.log, restartedAt, event.at) >= settings.turnStallTimeoutMs, "the abort had its whole window in contact");
          }
        }
        // A run left out of contact with time to spare ends by the limit (if nothing ended it first).
        const last = run.log.at(-1);
        if (finish === "wait" && run.final.status === "done" && last?.type === "deadline.fired" && last.deadline === "unreachable") {
          invariant(lifecycleState(run.final) === "failed" && run.final.context.failure?.reason === "runtime-unreachable", "the limit ends it failed, runtime-unreachable");
          invariant(run.final.context.prompts.every((prompt) => prompt.status !== "queued"), "its prompts are settled");
        }
      }),
      { numRuns },
    );
    // The property saw what it is about: losses of contact, verdicts in contact, and the limit.
    console.log(`contact property: ${outOfContactRuns} runs out of contact, ${verdicts} verdicts in contact, ${unreachable} ended by the limit`);
    expect(outOfContactRuns).toBeGreaterThan(numRuns / 4);
    expect(verdicts).toBeGreaterThan(numRuns / 40);
    expect(unreachable).toBeGreaterThan(numRuns / 50);
  });

  test("contact lost and regained: the deadlines that wait on the runtime resume pushed back by the time away", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_000 }), fc.integer({ min: 1, max: 10_000 }), (lostAfter, away) => {
        const run = simulate(
          [
            { kind: "progress", outcome: "succeeded", producer: "x", random: 0.5 },
            { kind: "tick", ms: lostAfter },
            { kind: "contact", lost: true },
            { kind: "tick", ms: Math.min(away, settings.unreachableTimeoutMs - 1) },
            { kind: "contact", lost: false },
          ],
          { finish: "none" },
        );
        const reservedAt = run.log.find((event) => event.type === "reservation.succeeded")?.at ?? 0;
        const away_ = Math.min(away, settings.unreachableTimeoutMs - 1);
        invariant(lifecycleState(run.final) === "awaiting-agent", `still awaiting the agent, not ${lifecycleState(run.final)}`);
        invariant(run.final.context.deadlines["agent-start"] === reservedAt + settings.agentStartTimeoutMs + away_, "the agent's window is pushed back by the time away");
        invariant(run.final.context.deadlines.unreachable === null && run.final.context.contactLostAt === null, "back in contact, the limit is off");
      }),
      { numRuns },
    );
  });
});
