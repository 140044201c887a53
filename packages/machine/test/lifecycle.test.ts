import { createActor } from "xstate";
import { describe, expect, test } from "vitest";
import { lifecycleState, promptToDispatch, replay, resolveSettings, sessionMachine, type SessionLogEvent } from "../src/index.js";

const repository = { owner: "octo", name: "demo" };
const settings = resolveSettings();

function run(events: SessionLogEvent[]) {
  return replay(events);
}

describe("a normal lifecycle", () => {
  test("reserving → awaiting-agent → ready → streaming → ready → closed", () => {
    const log: SessionLogEvent[] = [
      { type: "session.requested", repository, settings, at: 0 },
      { type: "prompt.submitted", promptId: "p1", text: "hello", at: 1 },
      { type: "reservation.succeeded", sessionId: "s1", at: 10 },
    ];
    expect(lifecycleState(run(log))).toBe("awaiting-agent");
    expect(promptToDispatch(run(log))).toBeUndefined();
    log.push({ type: "agent.started", producer: "copilot-agent", at: 20 });
    expect(lifecycleState(run(log))).toBe("ready");
    expect(promptToDispatch(run(log))?.id).toBe("p1");
    log.push({ type: "remote-url.published", url: "https://github.com/copilot/tasks/s1", at: 21 });
    log.push({ type: "prompt.dispatching", promptId: "p1", at: 22 });
    log.push({ type: "prompt.dispatched", promptId: "p1", messageId: "m1", at: 23 });
    expect(lifecycleState(run(log))).toBe("streaming");
    log.push({ type: "assistant.message", messageId: "a1", text: "hi there", at: 30 });
    log.push({ type: "turn.idle", aborted: false, at: 31 });
    log.push({ type: "close.requested", at: 40 });
    const snapshot = run(log);
    expect(snapshot.value).toBe("closed");
    expect(snapshot.status).toBe("done");
    expect(snapshot.context.remoteUrl).toBe("https://github.com/copilot/tasks/s1");
    expect(snapshot.context.prompts.toArray()).toEqual([{ id: "p1", text: "hello", status: "completed", submittedAt: 1, messageId: "m1", reply: "hi there" }]);
    expect(snapshot.output?.state).toBe("closed");
  });

  test("a done actor ignores events", () => {
    const actor = createActor(sessionMachine, { input: { repository, settings, requestedAt: 0 } }).start();
    actor.send({ type: "close.requested", at: 1 });
    const before = actor.getSnapshot();
    actor.send({ type: "reservation.succeeded", sessionId: "x", at: 2 });
    expect(actor.getSnapshot()).toBe(before);
  });
});
