import { resolveSettings, type SessionEvent } from "@cloudsession/machine";
import type { RawSessionEvent } from "@cloudsession/rx";
import { describe, expect, test } from "vitest";
import { SdkEventIntake, type IntakePort } from "../../src/sdkEventIntake.js";
import { agentStart, fakeEnvironment, remoteInfo, T0, type FakeEnvironment } from "./fakes.js";

/** The intake's session: what it recorded and showed live, and switches for its state. */
class Session implements IntakePort {
  finalized = false;
  stopped = false;
  stallMs = resolveSettings().turnStallTimeoutMs;
  readonly recorded: SessionEvent[] = [];
  readonly shown: SessionEvent[] = [];

  isStopped(): boolean {
    return this.stopped;
  }

  record(event: SessionEvent): void {
    this.recorded.push(event);
  }

  showLive(event: SessionEvent): void {
    this.shown.push(event);
  }

  turnStallTimeoutMs(): number {
    return this.stallMs;
  }
}

const delta = (id: string, text = "x"): RawSessionEvent => ({ type: "assistant.message_delta", id, data: { messageId: "m1", deltaContent: text } });
const message = (id: string, messageId: string, content = "done"): RawSessionEvent => ({ type: "assistant.message", id, data: { messageId, content } });

function setUp(options: { persistDeltas?: boolean } = {}): { env: FakeEnvironment; session: Session; intake: SdkEventIntake } {
  const env = fakeEnvironment(options);
  const session = new Session();
  return { env, session, intake: new SdkEventIntake(env, session) };
}

describe("SdkEventIntake", () => {
  test("receive() notes connection activity at the clock's time and records the mapped machine event", () => {
    const { env, session, intake } = setUp();
    intake.receive(agentStart);
    expect(env.fakeRuntime.activity).toEqual([T0]);
    expect(session.recorded).toEqual([{ type: "agent.started", producer: "copilot-agent", at: T0 }]);
  });

  test("maps the lifecycle's SDK events (URL, idle, error) and drops the ones the lifecycle does not use", () => {
    const { env, session, intake } = setUp();
    intake.receive(remoteInfo);
    env.clock.advance(10);
    intake.receive({ type: "tool.execution_start", data: { toolName: "bash" } });
    intake.receive({ type: "session.idle", data: { aborted: true } });
    intake.receive({ type: "session.error", data: { message: "boom", errorType: "internal" } });
    expect(session.recorded).toEqual([
      { type: "remote-url.published", url: "https://github.com/octo/demo/tasks/1", at: T0 },
      { type: "turn.idle", aborted: true, at: T0 + 10 },
      { type: "session.errored", message: "boom", errorType: "internal", at: T0 + 10 },
    ]);
  });

  test("an SDK event delivered twice (same event id) is recorded once", () => {
    const { session, intake } = setUp();
    intake.receive(message("e1", "m1"));
    intake.receive(message("e1", "m1"));
    expect(session.recorded.map((event) => event.type)).toEqual(["assistant.message"]);
  });

  test("an assistant message already in the log is not recorded again, even under a new SDK event id", () => {
    const { session, intake } = setUp();
    intake.noteRecorded({ type: "assistant.message", messageId: "m1", text: "done", at: T0 });
    intake.receive(message("e7", "m1"));
    intake.receive(message("e8", "m2"));
    expect(session.recorded).toEqual([{ type: "assistant.message", messageId: "m2", text: "done", at: T0 }]);
    expect([...intake.knownAssistantMessages]).toEqual(["m1"]);
  });

  test("only assistant messages are remembered as known; other recorded events are not", () => {
    const { intake } = setUp();
    intake.noteRecorded({ type: "prompt.dispatched", promptId: "p1", messageId: "u1", at: T0 });
    intake.noteRecorded({ type: "assistant.message", messageId: "m3", text: "hi", at: T0 });
    expect([...intake.knownAssistantMessages]).toEqual(["m3"]);
  });

  test("deltas are shown live, not recorded; a turn.progressed is recorded at most once per stall window / 10", () => {
    const { env, session, intake } = setUp();
    session.stallMs = 300_000; // throttle: 30 s
    intake.receive(delta("d1"));
    env.clock.advance(29_999);
    intake.receive(delta("d2"));
    env.clock.advance(1);
    intake.receive(delta("d3"));
    expect(session.shown.map((event) => event.type)).toEqual(["assistant.delta", "assistant.delta", "assistant.delta"]);
    expect(session.recorded).toEqual([
      { type: "turn.progressed", at: T0 },
      { type: "turn.progressed", at: T0 + 30_000 },
    ]);
  });

  test("the sign of life is recorded at most once a second, however short the stall window", () => {
    const { env, session, intake } = setUp();
    session.stallMs = 2_000; // a tenth is 200 ms: the floor of 1 s applies
    intake.receive(delta("d1"));
    env.clock.advance(999);
    intake.receive(delta("d2"));
    env.clock.advance(1);
    intake.receive(delta("d3"));
    expect(session.recorded.map((event) => event.at)).toEqual([T0, T0 + 1_000]);
  });

  test("with persistDeltas every delta is recorded as assistant.delta and none is only shown live", () => {
    const { session, intake } = setUp({ persistDeltas: true });
    intake.receive(delta("d1", "Hel"));
    intake.receive(delta("d2", "lo"));
    expect(session.recorded).toEqual([
      { type: "assistant.delta", messageId: "m1", text: "Hel", at: T0 },
      { type: "assistant.delta", messageId: "m1", text: "lo", at: T0 },
    ]);
    expect(session.shown).toEqual([]);
  });

  test("once the session is finalized nothing is recorded or shown, though the event still proves the connection alive", () => {
    const { env, session, intake } = setUp();
    session.finalized = true;
    intake.receive(agentStart);
    intake.receive(delta("d1"));
    expect(session.recorded).toEqual([]);
    expect(session.shown).toEqual([]);
    expect(env.fakeRuntime.activity).toEqual([T0, T0]);
  });

  test("once the runner stopped nothing is recorded or shown", () => {
    const { session, intake } = setUp();
    session.stopped = true;
    intake.receive(agentStart);
    intake.receive(delta("d1"));
    expect(session.recorded).toEqual([]);
    expect(session.shown).toEqual([]);
  });

  test("intake() (a history read) maps and records without noting connection activity", () => {
    const { env, session, intake } = setUp();
    intake.intake(agentStart);
    expect(session.recorded.map((event) => event.type)).toEqual(["agent.started"]);
    expect(env.fakeRuntime.activity).toEqual([]);
  });
});
