import { CONTACT_DEADLINES, isDeadlineDue, type DeadlineName, type SessionContext, type SessionEvent } from "@cloudsession/machine";
import type { Clock } from "./clock.js";

/** What the judge needs from its session. */
export interface JudgePort {
  context(): SessionContext;
  /** Records events, a function deciding in turn (see `SessionRunner.commit`). */
  commit(events: () => readonly SessionEvent[]): Promise<unknown>;
  reconcile(): void;
}

/** How the judge looks at the runtime before a verdict (the session's `SdkAttachment`). */
export interface RuntimeLook {
  /** A re-attach is under way: it settles the session from history, then re-arms the timer. */
  readonly attaching: boolean;
  /** Reads the history once and records what it holds; false when the runtime could not be asked. */
  lookBeforeVerdict(): Promise<boolean>;
}

/**
 * Turns a deadline the timer found due into `deadline.fired`, without blind verdicts: one that
 * waits on the runtime (agent start, turn stall) is judged only after the session's history was
 * read (an agent's start or a turn's end may be there, missed live) and not while a re-attach is
 * settling it; out of contact it is paused (`isDeadlineDue`). One judgement at a time.
 */
export class DeadlineJudge {
  private judging = false;

  constructor(
    private readonly clock: Clock,
    private readonly runtime: RuntimeLook,
    private readonly port: JudgePort,
  ) {}

  /** The timer says `deadline` is due: judge it (a firing during a judgement waits for it). */
  due(deadline: DeadlineName): void {
    if (this.judging) return;
    this.judging = true;
    void this.judge(deadline).finally(() => {
      this.judging = false;
      this.port.reconcile();
    });
  }

  private async judge(deadline: DeadlineName): Promise<void> {
    if (CONTACT_DEADLINES.includes(deadline)) {
      if (this.runtime.attaching) return;
      if (!(await this.runtime.lookBeforeVerdict())) return;
    }
    // Recorded only if it still stands once the history is in (it may have moved or gone).
    await this.port.commit(() => {
      const at = this.clock.now();
      return isDeadlineDue(this.port.context(), deadline, at) ? [{ type: "deadline.fired", deadline, at }] : [];
    });
  }
}
