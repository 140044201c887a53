import type { LifecycleState, SessionActor, SessionEvent, SessionLogEvent } from "@cloudsession/machine";
import { assembleText, selectLifecycleState, selectRemoteUrl, snapshots, type TurnText } from "@cloudsession/rx";
import { Subject, share, type Observable } from "rxjs";

/**
 * The observables a session offers its watchers: states and the remote URL from the actor, every
 * recorded event, and the assistant's text per turn. Each view is built on first use: most of
 * thousands of idle sessions are never watched.
 */
export class SessionViews {
  private readonly recorded = new Subject<SessionLogEvent>();
  private readonly textFeed = new Subject<SessionEvent>();
  private stateView: Observable<LifecycleState> | undefined;
  private remoteUrlView: Observable<string> | undefined;
  private textView: Observable<TurnText> | undefined;

  constructor(private readonly actor: SessionActor) {}

  /** Lifecycle states as they change; completes at the final state. */
  get state$(): Observable<LifecycleState> {
    return (this.stateView ??= snapshots(this.actor).pipe(selectLifecycleState()));
  }

  get remoteUrl$(): Observable<string> {
    return (this.remoteUrlView ??= snapshots(this.actor).pipe(selectRemoteUrl()));
  }

  /** The assistant's text per turn, live: one pipeline shared by every subscriber. */
  get text$(): Observable<TurnText> {
    return (this.textView ??= this.textFeed.pipe(assembleText(), share()));
  }

  get events$(): Observable<SessionLogEvent> {
    return this.recorded.asObservable();
  }

  /** An event now in the log: to `events$`, and to `text$` when it carries the turn's text. */
  published(event: SessionLogEvent): void {
    this.recorded.next(event);
    if (event.type === "assistant.message" || event.type === "assistant.delta" || event.type === "turn.idle") this.textFeed.next(event);
  }

  /** An event shown live but not recorded (a delta when deltas are not persisted): to `text$` only. */
  shownLive(event: SessionEvent): void {
    this.textFeed.next(event);
  }

  /** The session ended: every view completes. */
  complete(): void {
    this.recorded.complete();
    this.textFeed.complete();
  }
}
