import type { SessionContext, SessionEvent } from "@cloudsession/machine";
import { isStoreError } from "@cloudsession/store";
import { EngineError } from "./engineError.js";
import { checkPrompt, queueFull } from "./promptChecks.js";
import type { RunnerEnvironment } from "./runnerEnvironment.js";
import type { CommitOutcome } from "./sessionRecorder.js";

/** What the intake needs from its session. */
export interface IntakePromptPort {
  readonly id: string;
  /** The session's context now (its prompt list says what the log already has). */
  context(): SessionContext;
  /** Refuses a session that has ended. @throws EngineError `SESSION_ENDED` */
  assertActive(): void;
  /** Why an append was refused (the store's error, the gate's), if one was: nothing more is written. */
  writeFailure(): { readonly cause: unknown } | undefined;
  /** Records events, a function deciding in turn (see `SessionRunner.commit`). */
  commit(events: () => readonly SessionEvent[]): Promise<CommitOutcome>;
  /** The state named in a `SESSION_ENDED` refusal. */
  stateName(): string;
}

/**
 * Prompts submitted to a session, into its log at linear cost: checked against the limits when
 * submitted, then written by group commit (the prompts submitted while an append is in flight go
 * into the next one together, in order, at most {@link MAX_PROMPTS_PER_APPEND} at a time), each
 * submitter told the outcome of the append that carried its prompt. A prompt id the log already
 * has is not added again.
 */
export class PromptIntake {
  /** Prompts submitted and not yet taken into a commit. */
  private pending: Submission[] = [];
  private batchScheduled = false;

  constructor(
    private readonly env: RunnerEnvironment,
    private readonly port: IntakePromptPort,
  ) {}

  /**
   * Queues a prompt under `promptId`, at most once: resolves `recorded` once its
   * `prompt.submitted` is in the log (or was already there), `moved` when the session moved to
   * another owner before it could be written (cluster mode: the handle tries the next runner).
   *
   * @throws EngineError `SESSION_ENDED`, `QUEUE_FULL`, `PROMPT_TOO_LARGE`, `STORE_UNAVAILABLE`
   */
  async submit(promptId: string, text: string): Promise<"recorded" | "moved"> {
    checkPrompt(text, this.env.limits);
    this.port.assertActive();
    if (this.port.writeFailure() !== undefined) return this.notRecorded();
    const prompts = this.port.context().prompts;
    if (prompts.has(promptId)) return "recorded";
    if (prompts.queueLength + this.pending.length >= this.env.limits.maxQueuedPrompts) throw queueFull(this.port.id, this.env.limits);
    return new Promise((resolve, reject) => {
      this.pending.push({ promptId, text, resolve, reject });
      if (!this.batchScheduled) this.commitPending();
    });
  }

  private commitPending(): void {
    this.batchScheduled = true;
    let batch: Submission[] = [];
    void this.port
      .commit(() => {
        batch = this.pending.length <= MAX_PROMPTS_PER_APPEND ? this.pending : this.pending.slice(0, MAX_PROMPTS_PER_APPEND);
        this.pending = batch === this.pending ? [] : this.pending.slice(MAX_PROMPTS_PER_APPEND);
        this.batchScheduled = false;
        if (this.pending.length > 0) this.commitPending();
        const prompts = this.port.context().prompts;
        const seen = new Set<string>();
        const events: SessionEvent[] = [];
        const at = this.env.clock.now();
        for (const { promptId, text } of batch) {
          if (seen.has(promptId) || prompts.has(promptId)) continue;
          seen.add(promptId);
          events.push({ type: "prompt.submitted", promptId, text, at });
        }
        return events;
      })
      .then((outcome) => {
        // A commit that never ran its function (the session ended, the recorder failed) leaves every
        // pending prompt unwritten, and so will every later one.
        if (outcome !== "recorded") {
          batch = [...batch, ...this.pending];
          this.pending = [];
          this.batchScheduled = false;
        }
        const refusal = outcome === "recorded" ? undefined : this.refusal(outcome);
        for (const submission of batch) {
          if (refusal === undefined || refusal === "moved") submission.resolve(refusal ?? "recorded");
          else submission.reject(refusal);
        }
      });
  }

  /** What a prompt that could not be written is told. */
  private refusal(outcome: "ended" | "failed"): "moved" | EngineError {
    if (outcome === "ended") return new EngineError("SESSION_ENDED", `session ${this.port.id} has ended (${this.port.stateName()})`);
    const cause = this.port.writeFailure()?.cause;
    // Cluster mode: the lease moved on; the handle hands the prompt to the session's next runner.
    if (this.env.ownership !== undefined && isStoreError(cause, "LEASE_LOST")) return "moved";
    return new EngineError("STORE_UNAVAILABLE", `session ${this.port.id}: the store did not confirm the prompt's append, so it may not be recorded; retry with the same promptId (a recorded one is not added twice)`, {
      cause,
      retryAfterMs: STORE_RETRY_AFTER_MS,
    });
  }

  private notRecorded(): "moved" {
    const refusal = this.refusal("failed");
    if (refusal === "moved") return refusal;
    throw refusal;
  }
}

/** A prompt waiting to be written, and who waits for it. */
interface Submission {
  readonly promptId: string;
  readonly text: string;
  readonly resolve: (outcome: "recorded" | "moved") => void;
  readonly reject: (error: EngineError) => void;
}

/** Prompts per append when many are submitted at once: large enough to amortise a write, small enough not to hold the event loop. */
const MAX_PROMPTS_PER_APPEND = 500;

/** A revived runner takes over half a second after the store answers again (see revival.ts). */
const STORE_RETRY_AFTER_MS = 500;
