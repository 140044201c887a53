/**
 * Where a prompt is. `queued` → `dispatching` (intent logged) → `sent` (runtime gave a messageId)
 * → `completed` (its turn went idle). `interrupted`: it reached the runtime but its turn was cut
 * short (aborted, stalled, the session ended). `undelivered`: it never reached the runtime.
 */
export type PromptStatus = "queued" | "dispatching" | "sent" | "completed" | "interrupted" | "undelivered";

export interface PromptRecord {
  readonly id: string;
  readonly text: string;
  readonly status: PromptStatus;
  readonly submittedAt: number;
  readonly messageId?: string;
  /** The assistant's answer, assembled from the turn's `assistant.message` events. */
  readonly reply?: string;
  /** Why a prompt is `interrupted` or `undelivered`. */
  readonly reason?: string;
}
