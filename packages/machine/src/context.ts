import type { DeadlineName } from "./events.js";
import type { PromptList } from "./promptList.js";
import type { PromptRecord, PromptStatus } from "./promptRecord.js";
import type { Repository } from "./repository.js";
import type { SessionSettings } from "./settings.js";

export type { PromptRecord, PromptStatus };

/** The phase a failure happened in: the state the session was in. */
export type FailurePhase = "reserving" | "awaiting-agent" | "ready" | "streaming";

export type FailureReason =
  | "timeout"
  | "policy_blocked"
  | "create-failed"
  | "retries-exhausted"
  | "session-error"
  | "turn-stalled"
  /** Out of contact with the runtime for longer than `unreachableTimeoutMs`. */
  | "runtime-unreachable";

export interface SessionFailure {
  readonly phase: FailurePhase;
  readonly reason: FailureReason;
  readonly message: string;
}

/** Absolute epoch-ms deadlines; `null` when not armed. An engine re-arms them after a restore. */
export type Deadlines = Readonly<Record<DeadlineName, number | null>>;

export interface SessionContext {
  readonly repository: Repository;
  readonly settings: SessionSettings;
  readonly requestedAt: number;
  /** The SDK session id, minted by the server at reservation. */
  readonly sessionId: string | null;
  /** The Mission Control URL, published once: persisted in the log, always queryable. */
  readonly remoteUrl: string | null;
  readonly agentStartedAt: number | null;
  /** `createSession` attempts started so far. */
  readonly attempts: number;
  /**
   * Every prompt in submission order; the queue is the `queued` ones at the end, in this order. A
   * persistent list (promptList.ts): a submission or an update costs the same whatever its length.
   */
  readonly prompts: PromptList;
  /** The prompt whose turn is running (`dispatching`/`sent`), if any. */
  readonly inFlight: string | null;
  /** Why the running turn is being aborted; set while the machine waits for its idle. */
  readonly abortReason: string | null;
  readonly deadlines: Deadlines;
  readonly failure: SessionFailure | null;
  readonly closeReason: string | null;
  readonly resumes: number;
  /** When the engine lost contact with the runtime, while it has not regained it; `null` in contact. */
  readonly contactLostAt: number | null;
}

export const noDeadlines: Deadlines = { reservation: null, retry: null, "agent-start": null, "turn-stall": null, unreachable: null };
