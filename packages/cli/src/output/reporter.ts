import type { SessionHandle } from "@cloudsession/engine";
import type { SessionOutcome } from "@cloudsession/machine";
import type { ExitCode } from "../exitCodes.js";
import type { Transition } from "../transitions.js";

/** What the command knows about a session it shows live. */
export interface SessionLabel {
  readonly repository: string;
  /** A heading, e.g. the demo's "1/3 a normal session". */
  readonly title?: string;
}

/**
 * How a command shows a session: the live terminal view for people, NDJSON for scripts. Both are
 * fed the same way, so every command supports both.
 */
export interface SessionReporter {
  /** A one-line remark (e.g. "using the bundled simulator"). */
  notice(message: string): void;
  /** The inspector relay is serving at `url`. */
  inspector(url: string): void;
  /** Starts showing a session: lifecycle, URL, prompts, streamed answers. */
  attach(handle: SessionHandle, label: SessionLabel): void;
  transition(transition: Transition): void;
  outcome(session: string, outcome: SessionOutcome, exitCode: ExitCode, hint: string | undefined): void;
  /** Stops timers and spinners; idempotent. */
  dispose(): void;
}
