import { lifecycleState, type LifecycleState, type PromptStatus, type Repository, type SessionFailure, type SessionSnapshot } from "@cloudsession/machine";

/** What `GET /sessions/:id` answers. */
export interface SessionView {
  readonly id: string;
  /** The SDK (server-minted) session id, once the task is reserved. */
  readonly sessionId: string | null;
  readonly repository: Repository;
  readonly state: LifecycleState;
  /** The Mission Control URL, once published. */
  readonly missionControlUrl: string | null;
  readonly prompts: readonly PromptView[];
  readonly failure: SessionFailure | null;
  readonly closeReason: string | null;
}

export interface PromptView {
  readonly id: string;
  readonly text: string;
  /** `queued` → `dispatching` → `sent` → `completed`; or `interrupted` / `undelivered` with a reason. */
  readonly status: PromptStatus;
  readonly reason: string | null;
}

/**
 * The public view of a session, from a live handle's snapshot or from `replay(log)`.
 *
 * @example
 * const view = sessionView(id, handle.snapshot());
 */
export function sessionView(id: string, snapshot: SessionSnapshot): SessionView {
  const { context } = snapshot;
  return {
    id,
    sessionId: context.sessionId,
    repository: context.repository,
    state: lifecycleState(snapshot),
    missionControlUrl: context.remoteUrl,
    prompts: context.prompts.map((prompt) => ({ id: prompt.id, text: prompt.text, status: prompt.status, reason: prompt.reason ?? null })),
    failure: context.failure,
    closeReason: context.closeReason,
  };
}
