import type { SessionHandle } from "@cloudsession/engine";
import type { FailurePhase, FailureReason, LifecycleState, PromptStatus, SessionOutcome } from "@cloudsession/machine";
import type { Damage } from "../damage.js";
import { exitCodeName, type ExitCode } from "../exitCodes.js";
import type { Transition } from "../transitions.js";
import type { SessionLabel, SessionReporter } from "./reporter.js";

/** A prompt as reported in an `outcome` record; the text is the caller's own and is left out. */
export interface PromptReport {
  readonly id: string;
  readonly status: PromptStatus;
  readonly reason?: string;
  readonly reply?: string;
}

/**
 * Every line `--json` writes is one of these, discriminated by `type`. Stable: scripts depend on
 * it, and test/json.e2e.test.ts checks it.
 */
export type NdjsonRecord =
  | { readonly type: "notice"; readonly message: string }
  | { readonly type: "inspector"; readonly url: string }
  | { readonly type: "session"; readonly session: string; readonly repository: string }
  | { readonly type: "state"; readonly session: string; readonly state: LifecycleState; readonly elapsedMs: number }
  | ({ readonly type: "transition" } & Transition)
  | { readonly type: "remote-url"; readonly session: string; readonly url: string }
  | { readonly type: "prompt"; readonly session: string; readonly promptId: string; readonly status: "queued" | "dispatching" | "sent" | "dispatch-failed" }
  | { readonly type: "reply"; readonly session: string; readonly turn: number; readonly text: string }
  | {
      readonly type: "outcome";
      readonly session: string;
      readonly state: SessionOutcome["state"];
      readonly failure: { readonly phase: FailurePhase; readonly reason: FailureReason; readonly message: string } | null;
      readonly closeReason: string | null;
      readonly prompts: readonly PromptReport[];
      readonly exitCode: ExitCode;
      readonly result: string;
      readonly hint?: string;
    }
  | { readonly type: "error"; readonly code: string; readonly message: string; readonly hint?: string; readonly damage?: Damage; readonly exitCode: number };

/** Writes one record as one line of JSON. */
export function writeRecord(stream: NodeJS.WritableStream, record: NdjsonRecord): void {
  stream.write(`${JSON.stringify(record)}\n`);
}

/** The prompts of an outcome without their texts. */
export function promptReports(outcome: SessionOutcome): PromptReport[] {
  return outcome.prompts.map((prompt) => ({
    id: prompt.id,
    status: prompt.status,
    ...(prompt.reason === undefined ? {} : { reason: prompt.reason }),
    ...(prompt.reply === undefined ? {} : { reply: prompt.reply }),
  }));
}

/**
 * The `--json` reporter: NDJSON on stdout, nothing else (notices included, so stdout stays
 * parseable line by line).
 */
export class NdjsonReporter implements SessionReporter {
  private readonly subscriptions: { unsubscribe(): void }[] = [];

  constructor(private readonly stdout: NodeJS.WritableStream) {}

  private write(record: NdjsonRecord): void {
    writeRecord(this.stdout, record);
  }

  notice(message: string): void {
    this.write({ type: "notice", message });
  }

  inspector(url: string): void {
    this.write({ type: "inspector", url });
  }

  attach(handle: SessionHandle, label: SessionLabel): void {
    const session = handle.id;
    const started = Date.now();
    this.write({ type: "session", session, repository: label.repository });
    // Prompts in the log before the session was shown (a start's first prompts, a resumed queue).
    for (const prompt of handle.snapshot().context.prompts) if (prompt.status === "queued") this.write({ type: "prompt", session, promptId: prompt.id, status: "queued" });
    this.subscriptions.push(
      handle.state$.subscribe((state) => this.write({ type: "state", session, state, elapsedMs: Date.now() - started })),
      handle.remoteUrl$.subscribe((url) => this.write({ type: "remote-url", session, url })),
      handle.events$.subscribe((event) => {
        if (event.type === "prompt.submitted") this.write({ type: "prompt", session, promptId: event.promptId, status: "queued" });
        else if (event.type === "prompt.dispatching") this.write({ type: "prompt", session, promptId: event.promptId, status: "dispatching" });
        else if (event.type === "prompt.dispatched") this.write({ type: "prompt", session, promptId: event.promptId, status: "sent" });
        else if (event.type === "prompt.dispatch-failed") this.write({ type: "prompt", session, promptId: event.promptId, status: "dispatch-failed" });
      }),
      handle.text$.subscribe(({ turn, text, done }) => {
        if (done) this.write({ type: "reply", session, turn, text });
      }),
    );
  }

  transition(transition: Transition): void {
    this.write({ type: "transition", ...transition });
  }

  outcome(session: string, outcome: SessionOutcome, exitCode: ExitCode, hint: string | undefined): void {
    this.write({
      type: "outcome",
      session,
      state: outcome.state,
      failure: outcome.failure,
      closeReason: outcome.closeReason,
      prompts: promptReports(outcome),
      exitCode,
      result: exitCodeName(exitCode),
      ...(hint === undefined ? {} : { hint }),
    });
  }

  dispose(): void {
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
  }
}
