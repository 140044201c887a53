import { nextDeadline, type DeadlineName, type SessionContext } from "@cloudsession/machine";
import { MAX_TIMER_DELAY_MS, type Clock } from "./clock.js";

/** What the timer needs from its session. */
export interface DeadlinePort {
  /** The context whose deadlines count now; undefined when none do (the session ended, or its runner stopped acting). */
  deadlineContext(): SessionContext | undefined;
  /** A deadline has come due by the clock. */
  deadlineDue(deadline: DeadlineName, now: number): void;
}

/**
 * One timer per session, on its earliest deadline. A deadline that moved later (every sign of
 * life pushes the turn's stall deadline) keeps the timer where it is, and it re-arms when it
 * fires: one timer per stall window instead of a clear and a set per recorded event.
 */
export class DeadlineTimer {
  private timer: { at: number; handle: unknown } | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly port: DeadlinePort,
  ) {}

  /** Keeps the timer on `context`'s earliest deadline (cleared when none is armed). */
  arm(context: SessionContext): void {
    const next = nextDeadline(context);
    if (next === undefined) {
      this.clear();
      return;
    }
    if (this.timer !== undefined && this.timer.at <= next.at) return;
    this.clear();
    // Node fires a longer timer at once (after 1 ms, with a warning): a deadline further out than
    // that (a month-long limit) is waited for in steps, each re-arming when it fires.
    const now = this.clock.now();
    const delay = Math.min(MAX_TIMER_DELAY_MS, Math.max(0, next.at - now));
    const handle = this.clock.setTimeout(() => this.fire(), delay);
    this.timer = { at: now + delay, handle };
  }

  clear(): void {
    if (this.timer) this.clock.clearTimeout(this.timer.handle);
    this.timer = undefined;
  }

  private fire(): void {
    this.timer = undefined;
    const context = this.port.deadlineContext();
    const due = context === undefined ? undefined : nextDeadline(context);
    if (context === undefined || due === undefined) return;
    const now = this.clock.now();
    // Moved on since the timer was set: wait for the deadline as it is now.
    if (due.at > now) {
      this.arm(context);
      return;
    }
    this.port.deadlineDue(due.name, now);
  }
}
