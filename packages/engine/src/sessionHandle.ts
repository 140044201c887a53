import type { LifecycleState, SessionLogEvent, SessionOutcome, SessionSnapshot } from "@cloudsession/machine";
import type { TurnText } from "@cloudsession/rx";
import type { Observable } from "rxjs";

/**
 * A running cloud session: what `engine.start()` returns.
 *
 * @example
 * const session = engine.start({ repository: { owner: "octo", name: "demo" } });
 * session.send("Summarise the README");
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
  /** Every domain event as it is recorded. */
  readonly events$: Observable<SessionLogEvent>;
  /** The assistant's text per turn, live (deltas included). */
  readonly text$: Observable<TurnText>;
  readonly remoteUrl$: Observable<string>;
  /** Resolves with the final state and why, once the session ends. Never rejects. */
  readonly outcome: Promise<SessionOutcome>;
  snapshot(): SessionSnapshot;
  /** Queues a prompt (delivered after the agent is there, in order). Returns our prompt id. */
  send(text: string): string;
  /** Aborts the running turn, if any; the next queued prompt follows. */
  abortTurn(): Promise<void>;
  /** Ends the session; queued prompts are reported undelivered. */
  close(reason?: string): Promise<SessionOutcome>;
  /** Resolves when everything recorded so far is in the store (and applied). */
  settled(): Promise<void>;
}
