import type { Repository } from "./repository.js";
import type { SessionSettings } from "./settings.js";

/**
 * Domain events: facts in the past tense, the only input of the lifecycle machine and the
 * content of a session's event log. Every event carries `at`, the epoch milliseconds at which
 * the engine observed it: time enters the machine only through events, so a replay of the log
 * reproduces the live snapshot exactly.
 */

/** How a failed `createSession` was classified (in one place, by the engine). */
export type ReservationFailure = "policy_blocked" | "transient" | "fatal";

/** The deadlines a session can be waiting on. Each is kept in context as an absolute time. */
export type DeadlineName = "reservation" | "retry" | "agent-start" | "turn-stall" | "unreachable";

/**
 * The deadlines that wait on the runtime (the agent's start, a turn's progress or its abort's
 * acknowledgement): out of contact with the runtime they are paused, and only `unreachable` counts.
 */
export const CONTACT_DEADLINES: readonly DeadlineName[] = ["agent-start", "turn-stall"];

/** The first event of every log: what was asked for, with fully resolved settings. */
export interface SessionRequested {
  readonly type: "session.requested";
  readonly repository: Repository;
  readonly settings: SessionSettings;
  /**
   * `cloud` (the default when absent) runs on GitHub-hosted compute; `local` runs in the runtime's
   * own process (no Mission Control reservation, the agent starts with the session). The lifecycle
   * is the same.
   */
  readonly mode?: "cloud" | "local";
  /** For a local session: the directory the runtime works in. */
  readonly workingDirectory?: string;
  readonly at: number;
}

/** `createSession` resolved: Mission Control reserved a task. The agent is not there yet. */
export interface ReservationSucceeded {
  readonly type: "reservation.succeeded";
  readonly sessionId: string;
  readonly at: number;
}

/** `createSession` failed. `random` in [0, 1) jitters the backoff of a transient failure. */
export interface ReservationFailed {
  readonly type: "reservation.failed";
  readonly failure: ReservationFailure;
  readonly message: string;
  readonly random?: number;
  readonly at: number;
}

/** The runtime emitted `session.start`. Only producer `copilot-agent` makes the session ready. */
export interface AgentStarted {
  readonly type: "agent.started";
  readonly producer: string;
  readonly at: number;
}

/** `session.info` with `infoType: "remote"`: the Mission Control URL, published exactly once. */
export interface RemoteUrlPublished {
  readonly type: "remote-url.published";
  readonly url: string;
  readonly at: number;
}

/** The user asked for a prompt to be delivered. `promptId` is ours, not an SDK messageId. */
export interface PromptSubmitted {
  readonly type: "prompt.submitted";
  readonly promptId: string;
  readonly text: string;
  readonly at: number;
}

/** Write-ahead intent: the engine is about to call `session.send` for the queue's head. */
export interface PromptDispatching {
  readonly type: "prompt.dispatching";
  readonly promptId: string;
  readonly at: number;
}

/** `session.send` returned: the runtime accepted the prompt under `messageId`. */
export interface PromptDispatched {
  readonly type: "prompt.dispatched";
  readonly promptId: string;
  readonly messageId: string;
  readonly at: number;
}

/**
 * `session.send` failed, or a recovered intent was found not to have reached the runtime.
 * `requeue` puts the prompt back at the head of the queue; otherwise it is undelivered.
 */
export interface PromptDispatchFailed {
  readonly type: "prompt.dispatch-failed";
  readonly promptId: string;
  readonly message: string;
  readonly requeue: boolean;
  readonly at: number;
}

/** A streamed chunk of the answer (`assistant.message_delta`). Logged only when deltas are durable. */
export interface AssistantDelta {
  readonly type: "assistant.delta";
  readonly messageId: string;
  readonly text: string;
  readonly at: number;
}

/** A sign of life inside a turn, coalesced by the engine from ephemeral events such as deltas. */
export interface TurnProgressed {
  readonly type: "turn.progressed";
  readonly at: number;
}

/** A whole assistant message (`assistant.message`). */
export interface AssistantMessage {
  readonly type: "assistant.message";
  readonly messageId: string;
  readonly text: string;
  readonly at: number;
}

/** `session.idle`: the turn is over (`aborted` when it was cut short). */
export interface TurnIdle {
  readonly type: "turn.idle";
  readonly aborted: boolean;
  readonly at: number;
}

/** The user asked to abort the running turn; the engine calls `session.abort()`. */
export interface TurnAbortRequested {
  readonly type: "turn.abort-requested";
  readonly at: number;
}

/** `session.error`. The session cannot be trusted afterwards: it ends as `failed`. */
export interface SessionErrored {
  readonly type: "session.errored";
  readonly message: string;
  readonly errorType?: string;
  readonly at: number;
}

/** A deadline kept in context came due (the engine's clock fired it). Stale firings are ignored. */
export interface DeadlineFired {
  readonly type: "deadline.fired";
  readonly deadline: DeadlineName;
  readonly at: number;
}

/** The user (or a shutdown) asked to end the session. */
export interface CloseRequested {
  readonly type: "close.requested";
  readonly reason?: string;
  readonly at: number;
}

/** The engine re-attached to the session (`resumeSession`) after a restart or a dropped connection. */
export interface SessionResumed {
  readonly type: "session.resumed";
  readonly at: number;
}

/**
 * The engine lost its connection to the runtime that hosts the session (the transport closed, a
 * heartbeat went unanswered, a re-attach failed): it cannot see what the session does until it is
 * back. The deadlines that wait on the runtime pause; the out-of-contact limit starts.
 */
export interface RuntimeDisconnected {
  readonly type: "runtime.disconnected";
  readonly at: number;
}

/**
 * Contact is back: the engine re-attached and settled the session from the runtime's history
 * (recorded before this). Paused deadlines resume, pushed back by the time spent out of contact.
 */
export interface RuntimeReconnected {
  readonly type: "runtime.reconnected";
  readonly at: number;
}

/** Everything the machine accepts after `session.requested` (which is its input). */
export type SessionEvent =
  | ReservationSucceeded
  | ReservationFailed
  | AgentStarted
  | RemoteUrlPublished
  | PromptSubmitted
  | PromptDispatching
  | PromptDispatched
  | PromptDispatchFailed
  | AssistantDelta
  | TurnProgressed
  | AssistantMessage
  | TurnIdle
  | TurnAbortRequested
  | SessionErrored
  | DeadlineFired
  | CloseRequested
  | SessionResumed
  | RuntimeDisconnected
  | RuntimeReconnected;

/** A whole log: `session.requested` first, then machine events. */
export type SessionLogEvent = SessionRequested | SessionEvent;

export type SessionEventType = SessionLogEvent["type"];

/** Every event type, for decoders that must reject unknown rows. */
export const sessionEventTypes: readonly SessionEventType[] = [
  "session.requested",
  "reservation.succeeded",
  "reservation.failed",
  "agent.started",
  "remote-url.published",
  "prompt.submitted",
  "prompt.dispatching",
  "prompt.dispatched",
  "prompt.dispatch-failed",
  "assistant.delta",
  "turn.progressed",
  "assistant.message",
  "turn.idle",
  "turn.abort-requested",
  "session.errored",
  "deadline.fired",
  "close.requested",
  "session.resumed",
  "runtime.disconnected",
  "runtime.reconnected",
];

/** The producer whose `session.start` means the remote worker is really there. */
export const AGENT_PRODUCER = "copilot-agent";
