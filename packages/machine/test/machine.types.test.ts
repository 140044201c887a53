import { createActor, type Actor } from "xstate";
import { describe, expectTypeOf, test } from "vitest";
import {
  lifecycleState,
  replay,
  resolveSettings,
  sessionMachine,
  type LifecycleState,
  type PromptList,
  type PromptRecord,
  type PromptStatus,
  type SessionEvent,
  type SessionInput,
  type SessionLogEvent,
  type SessionOutcome,
  type SessionSnapshot,
} from "../src/index.js";

const input: SessionInput = { repository: { owner: "octo", name: "demo" }, settings: resolveSettings(), requestedAt: 0 };

describe("types", () => {
  test("the machine's events are exactly SessionEvent", () => {
    const actor: Actor<typeof sessionMachine> = createActor(sessionMachine, { input });
    expectTypeOf<Parameters<typeof actor.send>[0]>().toEqualTypeOf<SessionEvent>();
    actor.send({ type: "prompt.submitted", promptId: "p1", text: "hi", at: 1 });
    // @ts-expect-error a prompt needs its text
    actor.send({ type: "prompt.submitted", promptId: "p1", at: 1 });
    // @ts-expect-error every event carries `at`
    actor.send({ type: "close.requested" });
    // @ts-expect-error `at` is a number of epoch milliseconds
    actor.send({ type: "turn.idle", aborted: false, at: "now" });
    // @ts-expect-error no such reservation failure
    actor.send({ type: "reservation.failed", failure: "flaky", message: "x", at: 1 });
    // @ts-expect-error no such deadline
    actor.send({ type: "deadline.fired", deadline: "lunch", at: 1 });
    // @ts-expect-error session.requested is the log's first event, not a machine event
    actor.send({ type: "session.requested", repository: input.repository, settings: input.settings, at: 0 });
  });

  test("the machine needs its input", () => {
    // @ts-expect-error input is required
    createActor(sessionMachine);
  });

  test("snapshots, outputs and selectors are typed", () => {
    const snapshot = replay([{ type: "session.requested", repository: input.repository, settings: input.settings, at: 0 }]);
    expectTypeOf(snapshot).toEqualTypeOf<SessionSnapshot>();
    expectTypeOf(snapshot.output).toEqualTypeOf<SessionOutcome | undefined>();
    expectTypeOf(lifecycleState(snapshot)).toEqualTypeOf<LifecycleState>();
    expectTypeOf(snapshot.context.prompts).toEqualTypeOf<PromptList>();
    expectTypeOf(snapshot.context.prompts).toExtend<Iterable<PromptRecord>>();
    expectTypeOf(snapshot.context.prompts.toArray()).toEqualTypeOf<PromptRecord[]>();
    expectTypeOf<NonNullable<ReturnType<SessionSnapshot["context"]["prompts"]["at"]>>["status"]>().toEqualTypeOf<PromptStatus>();
    expectTypeOf<SessionOutcome["prompts"]>().toEqualTypeOf<readonly PromptRecord[]>();
    // @ts-expect-error a PromptList is not indexed like an array: use at(i)
    expectTypeOf(snapshot.context.prompts.at(0)).toBeUnknown();
    expectTypeOf<SessionEvent>().toExtend<SessionLogEvent>();
    // @ts-expect-error replay takes log events only
    const wrong = () => replay([{ type: "not-an-event", at: 0 }]);
    expectTypeOf(wrong).returns.toEqualTypeOf<SessionSnapshot>();
  });
});
