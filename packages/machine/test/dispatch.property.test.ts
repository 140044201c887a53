import { fc } from "@fast-check/vitest";
import { describe, expect, test } from "vitest";
import { AGENT_PRODUCER } from "../src/index.js";
import { happeningsArb, invariant, numRuns, simulate } from "./harness.js";

describe("property 1: no dispatch before agent start", () => {
  test("a turn begins only after a copilot-agent start, whatever the interleaving", () => {
    let dispatchedRuns = 0;
    fc.assert(
      fc.property(happeningsArb(), (happenings) => {
        // checkStep/checkSnapshot already fail on any dispatch outside `ready` or before agent start.
        const run = simulate(happenings);
        const firstTurn = run.log.findIndex((event) => event.type === "prompt.dispatching" && run.dispatchStarts.includes(event.promptId));
        if (firstTurn === -1) return;
        dispatchedRuns += 1;
        const agentStart = run.log.findIndex((event) => event.type === "agent.started" && event.producer === AGENT_PRODUCER);
        const reservation = run.log.findIndex((event) => event.type === "reservation.succeeded");
        invariant(reservation !== -1 && agentStart > reservation && agentStart < firstTurn, "reservation, then agent start, then the first turn");
      }),
      { numRuns },
    );
    // The generator must actually reach dispatches for the property to mean anything.
    expect(dispatchedRuns).toBeGreaterThan(numRuns / 4);
  });

  test("a start from another producer never makes the session ready", () => {
    fc.assert(
      fc.property(happeningsArb({ producers: ["local", "cli"] }), (happenings) => {
        const run = simulate(happenings);
        invariant(!run.visited.includes("ready") && !run.visited.includes("streaming"), "no copilot-agent start, no ready");
        invariant(run.dispatchStarts.length === 0, "and no dispatch");
      }),
      { numRuns },
    );
  });
});

describe("property 4: every submitted prompt is dispatched exactly once and in order, or reported undelivered", () => {
  test("prompts settle once, in order, each reaching the runtime at most once", () => {
    let delivered = 0;
    let undelivered = 0;
    fc.assert(
      fc.property(happeningsArb(), (happenings) => {
        const run = simulate(happenings);
        const { prompts } = run.final.context;
        invariant(run.final.status === "done", "every run ends done (closed at the end)");
        expect(prompts.map((prompt) => prompt.id)).toEqual(run.submitted);
        for (const prompt of prompts) {
          const receipts = run.receipts.get(prompt.id) ?? 0;
          invariant(receipts <= 1, `${prompt.id} reached the runtime ${receipts} times`);
          invariant(prompt.status === "completed" || prompt.status === "interrupted" || prompt.status === "undelivered", `${prompt.id} settled, not ${prompt.status}`);
          if (prompt.status === "undelivered") {
            undelivered += 1;
            invariant(receipts === 0, `${prompt.id} is reported undelivered yet reached the runtime`);
          } else {
            delivered += 1;
            invariant(run.dispatchStarts.includes(prompt.id), `${prompt.id} is ${prompt.status} without ever being dispatched`);
          }
          if (prompt.messageId !== undefined) invariant(receipts === 1, `${prompt.id} has a messageId the runtime never gave`);
        }
        // Turns begin in submission order (a requeued prompt repeats, never overtaken).
        const order = run.dispatchStarts.map((id) => run.submitted.indexOf(id));
        invariant(order.every((position, index) => index === 0 || position >= (order[index - 1] ?? 0)), `turns in submission order: ${run.dispatchStarts.join(",")}`);
        // A prompt dispatched again was requeued in between, never sent twice.
        for (const [index, id] of run.dispatchStarts.entries()) {
          if (run.dispatchStarts.indexOf(id) !== index) invariant((run.receipts.get(id) ?? 0) <= 1, `${id} re-dispatched after reaching the runtime`);
        }
      }),
      { numRuns },
    );
    expect(delivered).toBeGreaterThan(numRuns / 8);
    expect(undelivered).toBeGreaterThan(numRuns / 8);
  });
});
