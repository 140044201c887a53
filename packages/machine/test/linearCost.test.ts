import { createActor, transition } from "xstate";
import { describe, expect, test } from "vitest";
import { fastTransition } from "../src/fastTransition.js";
import { AGENT_PRODUCER, createSessionActor, PromptList, sessionMachine, type PromptRecord, type SessionEvent, type SessionSnapshot } from "../src/index.js";
import { initialContext } from "../src/sessionMachine.js";
import { input } from "./harness.js";

/*
 * Issue 21: submitting N prompts to one session must cost O(N) in all. Pinned here without a clock:
 * by what a submission allocates (nodes of the prompt list it does not share with the list before
 * it) and by what each event reads (prompt fields read by the machine's guards and updates), at
 * sizes far apart. Before the persistent list, each submission copied the whole array and its
 * guard read every prompt's id.
 */

const submit = (id: string, at: number): SessionEvent => ({ type: "prompt.submitted", promptId: id, text: `text ${id}`, at });

/** A light session actor, reserved, with `count` prompts submitted. */
function sessionWith(count: number) {
  const actor = createSessionActor(input);
  actor.send({ type: "reservation.succeeded", sessionId: "s1", at: 1 });
  for (let index = 0; index < count; index++) actor.send(submit(`p${index}`, 2));
  return actor;
}

describe("a submission costs the same whatever the session's length", () => {
  test.each([100, 5_000, 40_000])("with %i prompts queued, one more shares all but a leaf's path of the list, and the old snapshot keeps its prompts", (count) => {
    const actor = sessionWith(count);
    const before = actor.getSnapshot();
    actor.send(submit("one-more", 3));
    const after = actor.getSnapshot();
    expect(after.context.prompts.length).toBe(count + 1);
    // A new tail, and every 32nd time the path from the root to the leaf the old tail became.
    expect(PromptList.copiedNodes(after.context.prompts, before.context.prompts)).toBeLessThanOrEqual(6);
    expect(before.context.prompts.length).toBe(count);
    expect(before.context.prompts.has("one-more")).toBe(false);
    expect(after.context.prompts.at(-1)?.id).toBe("one-more");
  });

  test("an XState actor of the machine shares the same way (the list is the machine's, not the light actor's)", () => {
    const actor = createActor(sessionMachine, { input }).start();
    for (let index = 0; index < 3_000; index++) actor.send(submit(`p${index}`, 2));
    const before = actor.getSnapshot();
    actor.send(submit("one-more", 3));
    expect(PromptList.copiedNodes(actor.getSnapshot().context.prompts, before.context.prompts)).toBeLessThanOrEqual(6);
    actor.stop();
  });

  test("two transitions from one snapshot (XState's pure transition) give two lists, and the snapshot keeps its own", () => {
    const base = sessionWith(2_000).getSnapshot();
    const [left] = transition(sessionMachine, base, submit("left", 3));
    const [right] = transition(sessionMachine, base, submit("right", 3));
    const [leftAgain] = transition(sessionMachine, left, submit("left-2", 4));
    expect([base, left, right, leftAgain].map((snapshot) => snapshot.context.prompts.length)).toEqual([2_000, 2_001, 2_001, 2_002]);
    expect([base, left, right, leftAgain].map((snapshot) => [snapshot.context.prompts.has("left"), snapshot.context.prompts.has("right")])).toEqual([
      [false, false],
      [true, false],
      [false, true],
      [true, false],
    ]);
    expect(right.context.prompts.get("p1999")).toBe(base.context.prompts.get("p1999"));
  });
});

/** `count` prompts (all settled but the last `queued`), each counting the reads of its fields. */
function countingList(count: number, queued: number, reads: { count: number }): PromptList {
  const records: PromptRecord[] = Array.from({ length: count }, (_, index) => {
    const record: PromptRecord = { id: `p${index}`, text: `text ${index}`, status: index < count - queued ? "completed" : "queued", submittedAt: 1 };
    return new Proxy(record, {
      get(target, key, receiver) {
        reads.count++;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
  });
  return PromptList.from(records);
}

/** Reads of prompt fields by each event of a turn, from a ready session holding `list`. */
function readsPerEvent(list: PromptList, reads: { count: number }, step: (snapshot: SessionSnapshot, event: SessionEvent) => SessionSnapshot): number[] {
  let snapshot = sessionMachine.resolveState({ value: "ready", context: { ...initialContext(input), sessionId: "s1", agentStartedAt: 1, prompts: list } });
  const head = list.queueHead?.id ?? "";
  const events: SessionEvent[] = [
    submit("new", 2),
    submit("p3", 2), // a duplicate of a prompt deep in the list: the guard refuses it
    { type: "prompt.dispatching", promptId: head, at: 3 },
    { type: "prompt.dispatched", promptId: head, messageId: "m1", at: 4 },
    { type: "assistant.message", messageId: "a1", text: "hello", at: 5 },
    { type: "turn.idle", aborted: false, at: 6 },
    { type: "prompt.dispatched", promptId: head, messageId: "m2", at: 7 }, // late: refused, the messageId is known
  ];
  return events.map((event) => {
    reads.count = 0;
    snapshot = step(snapshot, event);
    return reads.count;
  });
}

describe("each event of a turn reads the same few prompt fields whatever the session's length", () => {
  const sizes = [100, 20_004]; // the same length modulo 32: tails of the same size
  const paths: [string, (snapshot: SessionSnapshot, event: SessionEvent) => SessionSnapshot][] = [
    ["the compiled table (fastTransition)", (snapshot, event) => fastTransition(snapshot, event) ?? expect.unreachable("the table answers a turn's events")],
    ["XState's transition", (snapshot, event) => transition(sessionMachine, snapshot, event)[0]],
  ];
  test.each(paths)("through %s", (_name, step) => {
    const [small, large] = sizes.map((size) => {
      const reads = { count: 0 };
      return readsPerEvent(countingList(size, 10, reads), reads, step);
    });
    expect(large).toEqual(small);
    // A tail scan (≤ 32 ids) and a record or two per event.
    for (const count of large ?? []) expect(count).toBeLessThanOrEqual(40);
  });
});

describe("the list in a snapshot reads as its prompts", () => {
  test("JSON.stringify writes it as an array, as it wrote the array before", () => {
    const actor = sessionWith(40);
    const json = JSON.parse(JSON.stringify(actor.getSnapshot().context)) as { prompts: unknown };
    expect(Array.isArray(json.prompts)).toBe(true);
    expect(json.prompts).toEqual(actor.getSnapshot().context.prompts.toArray());
  });

  test("the outcome carries a plain array", () => {
    const actor = sessionWith(3);
    actor.send({ type: "agent.started", producer: AGENT_PRODUCER, at: 2 });
    actor.send({ type: "close.requested", at: 3 });
    const outcome = actor.getSnapshot().output;
    expect(Array.isArray(outcome?.prompts)).toBe(true);
    expect(outcome?.prompts.map((prompt) => prompt.status)).toEqual(["undelivered", "undelivered", "undelivered"]);
  });
});
