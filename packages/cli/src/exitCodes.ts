import type { SessionOutcome } from "@cloudsession/machine";

/**
 * The process exit codes of `cloudsession`: one per outcome, so scripts can branch without
 * parsing output. Stable: documented in `--help` and docs/getting-started.md.
 */
export const ExitCode = {
  /** The session closed after every prompt's turn completed. */
  success: 0,
  /** Something outside the session went wrong: the store or the runtime cannot be reached, the engine refused for now (`BUSY`), or a bug. */
  unexpected: 1,
  /** Bad arguments or input: a missing `--repo`, an unknown session id, a port in use, a session that cannot be resumed, a prompt over the engine's limits. */
  usage: 2,
  /** Blocked by organisation policy or entitlement (`policy_blocked`); never retried. */
  blocked: 3,
  /** A deadline passed: reservation, agent start, or a stalled turn. */
  timedOut: 4,
  /** Failed for another reason, or ended with prompts not completed. */
  failed: 5,
  /** The session's stored log is damaged (unreadable, or its events do not add up): nothing acts on it. */
  damaged: 6,
  /** Interrupted with Ctrl-C (128 + SIGINT, as shells report it). */
  interrupted: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit-code table as shown at the end of `cloudsession --help`. */
export const exitCodeHelp = [
  "Exit codes:",
  ...(
    [
      [0, "success: the session closed after every prompt completed"],
      [1, "the store or the runtime cannot be reached, or an unexpected error"],
      [2, "usage or bad input (e.g. missing --repo, unknown session id, port in use, a session that cannot be resumed, a prompt too large)"],
      [3, "blocked by organisation Copilot policy or entitlement (policy_blocked)"],
      [4, "timed out (reservation, agent start, or a stalled turn)"],
      [5, "failed (session error, create failed, retries exhausted, prompts not completed)"],
      [6, "the session's stored log is damaged (show and replay say what is wrong)"],
      [130, "interrupted (Ctrl-C)"],
    ] as const
  ).map(([code, meaning]) => `  ${String(code).padStart(3)}  ${meaning}`),
].join("\n");

/**
 * Maps a session's final outcome to its exit code.
 *
 * @example
 * exitCodeForOutcome({ state: "blocked", failure: { phase: "reserving", reason: "policy_blocked", message: "" }, closeReason: null, prompts: [] }) // 3
 */
export function exitCodeForOutcome(outcome: SessionOutcome): ExitCode {
  if (outcome.state === "blocked") return ExitCode.blocked;
  if (outcome.state === "failed") {
    const reason = outcome.failure?.reason;
    return reason === "timeout" || reason === "turn-stalled" ? ExitCode.timedOut : ExitCode.failed;
  }
  // Closed: a success only when nothing the user asked for was lost on the way.
  return outcome.prompts.every((prompt) => prompt.status === "completed") ? ExitCode.success : ExitCode.failed;
}

/** A short name for an exit code, used in NDJSON output. */
export function exitCodeName(code: ExitCode): keyof typeof ExitCode {
  const entry = (Object.entries(ExitCode) as [keyof typeof ExitCode, ExitCode][]).find(([, value]) => value === code);
  return entry ? entry[0] : "unexpected";
}
