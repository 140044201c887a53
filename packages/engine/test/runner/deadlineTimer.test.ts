import { createSessionActor, inputFromRequest, noDeadlines, type DeadlineName, type Deadlines, type SessionContext } from "@cloudsession/machine";
import { beforeEach, describe, expect, test } from "vitest";
import { MAX_TIMER_DELAY_MS } from "../../src/clock.js";
import { DeadlineTimer, type DeadlinePort } from "../../src/deadlineTimer.js";
import { ManualClock, requestAt, T0 } from "./fakes.js";

const baseContext = createSessionActor(inputFromRequest(requestAt(T0))).getSnapshot().context;
const withDeadlines = (deadlines: Partial<Deadlines>): SessionContext => ({ ...baseContext, deadlines: { ...noDeadlines, ...deadlines } });
const DAY = 86_400_000;

/** The timer's session: its deadlines as they are now (the test moves them), and what came due. */
class Session implements DeadlinePort {
  context: SessionContext | undefined = withDeadlines({});
  readonly due: { readonly deadline: DeadlineName; readonly now: number }[] = [];

  deadlineContext(): SessionContext | undefined {
    return this.context;
  }

  deadlineDue(deadline: DeadlineName, now: number): void {
    this.due.push({ deadline, now });
  }
}

describe("DeadlineTimer", () => {
  let clock: ManualClock;
  let session: Session;
  let timer: DeadlineTimer;
  const arm = (deadlines: Partial<Deadlines>) => {
    session.context = withDeadlines(deadlines);
    timer.arm(session.context);
  };

  beforeEach(() => {
    clock = new ManualClock();
    session = new Session();
    timer = new DeadlineTimer(clock, session);
  });

  test("one timer on the earliest armed deadline, which is reported due by name at its time", () => {
    arm({ reservation: T0 + 120_000, "agent-start": T0 + 60_000 });
    expect(clock.pending.map((pending) => pending.delay)).toEqual([60_000]);
    clock.advance(59_999);
    expect(session.due).toEqual([]);
    clock.advance(1);
    expect(session.due).toEqual([{ deadline: "agent-start", now: T0 + 60_000 }]);
    expect(clock.pending).toEqual([]);
  });

  test("a deadline moved later keeps the timer where it is: no clear, no new timer", () => {
    arm({ "turn-stall": T0 + 300 });
    arm({ "turn-stall": T0 + 400 });
    arm({ "turn-stall": T0 + 500 });
    expect(clock.delays).toEqual([300]);
    expect(clock.cleared).toBe(0);
  });

  test("fired before the deadline as it is now, it re-arms for the time left instead of reporting it", () => {
    arm({ "turn-stall": T0 + 300 });
    session.context = withDeadlines({ "turn-stall": T0 + 450 });
    clock.advance(300);
    expect(session.due).toEqual([]);
    expect(clock.pending.map((pending) => pending.delay)).toEqual([150]);
    clock.advance(150);
    expect(session.due).toEqual([{ deadline: "turn-stall", now: T0 + 450 }]);
  });

  test("a deadline moved earlier replaces the timer", () => {
    arm({ "turn-stall": T0 + 400 });
    arm({ "agent-start": T0 + 100, "turn-stall": T0 + 400 });
    expect(clock.cleared).toBe(1);
    expect(clock.pending.map((pending) => pending.delay)).toEqual([100]);
    clock.advance(100);
    expect(session.due).toEqual([{ deadline: "agent-start", now: T0 + 100 }]);
  });

  test("a deadline already past is waited for with no delay", () => {
    clock.advance(5_000);
    arm({ retry: T0 + 1_000 });
    expect(clock.pending.map((pending) => pending.delay)).toEqual([0]);
    clock.advance(0);
    expect(session.due).toEqual([{ deadline: "retry", now: T0 + 5_000 }]);
  });

  test("a deadline beyond Node's longest timer (~24.8 days) is waited for in steps of MAX_TIMER_DELAY_MS, reported once", () => {
    const at = T0 + 30 * DAY;
    arm({ "turn-stall": at });
    expect(clock.pending.map((pending) => pending.delay)).toEqual([MAX_TIMER_DELAY_MS]);
    clock.advance(MAX_TIMER_DELAY_MS);
    expect(session.due).toEqual([]);
    expect(clock.pending.map((pending) => pending.delay)).toEqual([at - clock.now()]);
    clock.advance(at - clock.now());
    expect(session.due).toEqual([{ deadline: "turn-stall", now: at }]);
    expect(clock.delays).toEqual([MAX_TIMER_DELAY_MS, 30 * DAY - MAX_TIMER_DELAY_MS]);
  });

  test("a timer that fires early (as Node fires one too long for it) re-arms instead of reporting the deadline", () => {
    const at = T0 + 60 * DAY;
    arm({ reservation: at });
    clock.advance(1);
    clock.fireEarly(clock.pending[0]!.handle);
    expect(session.due).toEqual([]);
    expect(clock.pending.map((pending) => pending.delay)).toEqual([MAX_TIMER_DELAY_MS]);
  });

  test("clear() cancels the timer: nothing is reported after", () => {
    arm({ "turn-stall": T0 + 300 });
    timer.clear();
    expect(clock.pending).toEqual([]);
    clock.advance(1_000);
    expect(session.due).toEqual([]);
  });

  test("arming a context with no deadline clears the timer", () => {
    arm({ "turn-stall": T0 + 300 });
    arm({});
    expect(clock.pending).toEqual([]);
    clock.advance(1_000);
    expect(session.due).toEqual([]);
  });

  test("a firing when the session no longer counts deadlines (ended, or its runner stopped) reports nothing and sets no timer", () => {
    arm({ "turn-stall": T0 + 300 });
    session.context = undefined;
    clock.advance(300);
    expect(session.due).toEqual([]);
    expect(clock.pending).toEqual([]);
  });

  test("after a firing, arming again sets a new timer (a fired timer is not kept as armed)", () => {
    arm({ "turn-stall": T0 + 300 });
    clock.advance(300);
    arm({ "turn-stall": T0 + 900 });
    expect(clock.pending.map((pending) => pending.at)).toEqual([T0 + 900]);
  });
});
