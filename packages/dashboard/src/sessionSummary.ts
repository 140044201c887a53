import { formatRepository, lifecycleState, type LifecycleState, type PromptRecord, type SessionSnapshot } from "@cloudsession/machine";
import type { PromptCounts, SessionStateName, SessionSummary } from "./protocol.js";
import { statePath } from "./statePath.js";

/** A list row as the store alone knows it; whether an engine runs the session is added when served. */
export type StoredSummary = Omit<SessionSummary, "running">;

/** Where a session's log stands: its version and the store's clock at its first and last event. */
export interface LogPosition {
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

// The wire type spells the machine's states out, so the page needs no import from the machine; this keeps them equal.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;
type _StatesAgree = Holds<Same<SessionStateName, LifecycleState>>;

/**
 * Counts prompts by how far they got.
 *
 * @example
 * countPrompts([{ id: "p1", text: "hi", status: "completed", submittedAt: 0 }]) // { delivered: 1, queued: 0, undelivered: 0 }
 */
export function countPrompts(prompts: Iterable<PromptRecord>): PromptCounts {
  let delivered = 0;
  let queued = 0;
  let undelivered = 0;
  for (const prompt of prompts) {
    if (prompt.status === "queued" || prompt.status === "dispatching") queued += 1;
    else if (prompt.status === "undelivered") undelivered += 1;
    else delivered += 1;
  }
  return { delivered, queued, undelivered };
}

/**
 * A session's list row, from the machine's snapshot after its log.
 *
 * @example
 * const row = summarize("s-1", replay(log), { version: log.length, createdAt, updatedAt });
 */
export function summarize(id: string, snapshot: SessionSnapshot, position: LogPosition): StoredSummary {
  const context = snapshot.context;
  return {
    id,
    repository: formatRepository(context.repository),
    state: lifecycleState(snapshot),
    statePath: statePath(snapshot.value),
    final: snapshot.status !== "active",
    createdAt: position.createdAt,
    updatedAt: position.updatedAt,
    version: position.version,
    prompts: countPrompts(context.prompts),
    remoteUrl: context.remoteUrl,
    failure: context.failure === null ? null : { phase: context.failure.phase, reason: context.failure.reason, message: context.failure.message },
    closeReason: context.closeReason,
    damaged: null,
  };
}
