import type { LifecycleState, SessionLogEvent, SessionOutcome, SessionSnapshot } from "@cloudsession/machine";
import type { TurnText } from "@cloudsession/rx";
import type { Observable } from "rxjs";

/** Options of {@link SessionHandle.send}. */
export interface SendOptions {
  /**
   * Your own id for the prompt (at most 200 characters): a send under an id the log already has
   * adds nothing and resolves, so a send that failed with `STORE_UNAVAILABLE` can be retried safely.
   */
  readonly promptId?: string;
}

/**
 * A running cloud session: what `engine.start()` resolves with.
 *
 * @example
 * const session = await engine.start({ repository: { owner: "octo", name: "demo" } });
 * const promptId = await session.send("Summarise the README"); // in the log now
 * session.text$.subscribe(({ text }) => render(text));
 * const outcome = await session.outcome;
 */
export interface SessionHandle {
  /** The engine's id for the session: its event stream. Known at once. */
  readonly id: string;
  /** The SDK (server-minted) session id, once the task is reserved. */
  readonly sessionId: string | null;
  /** The Mission Control URL, once published (restored from the log after a restart). */
  readonly remoteUrl: string | null;
  readonly state: LifecycleState;
  /** Lifecycle states as they change; completes at the final state. */
  readonly state$: Observable<LifecycleState>;
  /** Every domain event as it is recorded, from the moment of subscribing (the whole log: `engine.history(id)`). */
  readonly events$: Observable<SessionLogEvent>;
  /** The assistant's text per turn, live (deltas included). */
  readonly text$: Observable<TurnText>;
  readonly remoteUrl$: Observable<string>;
  /** Resolves with the final state and why, once the session ends. Never rejects. */
  readonly outcome: Promise<SessionOutcome>;
  snapshot(): SessionSnapshot;
  /**
   * Queues a prompt (delivered after the agent is there, in order, once). Resolves with the
   * prompt's id once its `prompt.submitted` is in the log (on a cluster follower: once the command
   * for the owner is in the store); a resolved send survives a crash.
   *
   * @throws EngineError `INVALID_ARGUMENT`, `PROMPT_TOO_LARGE`, `QUEUE_FULL` (retry later),
   *   `SESSION_ENDED`, `STORE_UNAVAILABLE` (not known to be recorded: retry with the same
   *   `promptId`), `ENGINE_CLOSED`
   */
  send(text: string, options?: SendOptions): Promise<string>;
  /** Aborts the running turn, if any; the next queued prompt follows. */
  abortTurn(): Promise<void>;
  /** Ends the session; queued prompts are reported undelivered. */
  close(reason?: string): Promise<SessionOutcome>;
  /** Resolves when everything recorded so far is in the store (and applied). */
  settled(): Promise<void>;
}
