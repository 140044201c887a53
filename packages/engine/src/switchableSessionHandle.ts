import type { LifecycleState, SessionLogEvent, SessionOutcome, SessionSnapshot } from "@cloudsession/machine";
import type { TurnText } from "@cloudsession/rx";
import { BehaviorSubject, Subject, distinctUntilChanged, merge, switchMap, type Observable } from "rxjs";
import type { SessionHandle } from "./sessionHandle.js";
import type { LoggedSession } from "./loggedSession.js";

/**
 * The handle a user keeps. In cluster mode the session may move between instances (this one takes
 * it over, loses its lease, takes it back); on a single instance a runner whose append failed is
 * replaced by one restored from the log once the store answers. So the handle delegates to
 * whichever runner currently stands for the session here: the owner, or a follower that mirrors
 * the log and forwards commands. Observables and `outcome` continue across those switches.
 */
export class SwitchableSessionHandle implements SessionHandle {
  readonly id: string;
  readonly outcome: Promise<SessionOutcome>;
  private current: LoggedSession;
  private ended = false;
  private resolveOutcome!: (outcome: SessionOutcome) => void;
  // The observables' plumbing is made on first use: most handles never have a subscriber, and an
  // engine holds tens of thousands of them.
  private bodies: BehaviorSubject<LoggedSession> | undefined;
  private missed: Subject<SessionLogEvent> | undefined;
  private stateView: Observable<LifecycleState> | undefined;
  private remoteUrlView: Observable<string> | undefined;
  private textView: Observable<TurnText> | undefined;
  private eventsView: Observable<SessionLogEvent> | undefined;
  /** Prompts sent through this handle that may not be in the log yet: re-submitted after a switch. */
  private unconfirmed: Map<string, string> | undefined;
  private closeReason: { reason?: string } | undefined;
  /** The prompt whose turn an `abortTurn()` through this handle was for: carried to the next runner. */
  private abortFor: string | undefined;

  constructor(body: LoggedSession) {
    this.id = body.id;
    this.current = body;
    this.outcome = new Promise((resolve) => (this.resolveOutcome = resolve));
    this.watch(body);
  }

  /** The runner standing for the session here now. */
  get body(): LoggedSession {
    return this.current;
  }

  // Once the session has ended its last runner's observables say so (they replay the final state
  // and complete); before, each follows whichever runner stands for the session.
  get state$(): Observable<LifecycleState> {
    if (this.ended) return this.current.state$;
    return (this.stateView ??= this.followed().pipe(
      switchMap((runner) => runner.state$),
      distinctUntilChanged(),
    ));
  }

  get remoteUrl$(): Observable<string> {
    if (this.ended) return this.current.remoteUrl$;
    return (this.remoteUrlView ??= this.followed().pipe(
      switchMap((runner) => runner.remoteUrl$),
      distinctUntilChanged(),
    ));
  }

  get text$(): Observable<TurnText> {
    if (this.ended) return this.current.text$;
    return (this.textView ??= this.followed().pipe(switchMap((runner) => runner.text$)));
  }

  get events$(): Observable<SessionLogEvent> {
    if (this.ended) return this.current.events$;
    return (this.eventsView ??= merge((this.missed ??= new Subject()), this.followed().pipe(switchMap((runner) => runner.events$))));
  }

  /**
   * Puts another runner in place (restored from the log at a later version). `missed` are the log
   * events between the two runners' versions, passed on so `events$` has no gap.
   */
  switchTo(next: LoggedSession, missed: readonly SessionLogEvent[]): void {
    if (this.missed !== undefined) for (const event of missed) this.missed.next(event);
    this.current = next;
    this.bodies?.next(next);
    this.watch(next);
    // A prompt or close the previous runner accepted but could not record travels on.
    const known = new Set(next.snapshot().context.prompts.map((prompt) => prompt.id));
    for (const [promptId, text] of this.unconfirmed ?? []) {
      if (known.has(promptId)) this.unconfirmed?.delete(promptId);
      else next.submit(promptId, text);
    }
    if (this.closeReason !== undefined) void next.close(this.closeReason.reason);
    // An abort for the turn still running in the next runner's log travels on too (once its
    // history is settled the runner sends it only if that turn is still running).
    else if (this.abortFor !== undefined && next.state === "streaming" && next.snapshot().context.inFlight === this.abortFor) void next.abortTurn();
  }

  get sessionId(): string | null {
    return this.body.sessionId;
  }

  get remoteUrl(): string | null {
    return this.body.remoteUrl;
  }

  get state(): LifecycleState {
    return this.body.state;
  }

  snapshot(): SessionSnapshot {
    return this.body.snapshot();
  }

  send(text: string): string {
    const promptId = this.body.send(text);
    const unconfirmed = (this.unconfirmed ??= new Map<string, string>());
    unconfirmed.set(promptId, text);
    // Forget the ones the log has by now, when the runner can tell (its machine not ahead of the log).
    if (unconfirmed.size > UNCONFIRMED_PRUNE_FROM) {
      const recorded = this.body.recordedPromptIds();
      if (recorded !== undefined) for (const id of unconfirmed.keys()) if (recorded.has(id)) unconfirmed.delete(id);
    }
    return promptId;
  }

  abortTurn(): Promise<void> {
    this.abortFor = this.body.snapshot().context.inFlight ?? undefined;
    return this.body.abortTurn();
  }

  close(reason?: string): Promise<SessionOutcome> {
    this.closeReason = reason === undefined ? {} : { reason };
    void this.body.close(reason);
    return this.outcome;
  }

  settled(): Promise<void> {
    return this.body.settled();
  }

  /** The runner standing for the session, as it changes. */
  private followed(): BehaviorSubject<LoggedSession> {
    return (this.bodies ??= new BehaviorSubject(this.current));
  }

  private watch(runner: LoggedSession): void {
    void runner.outcome.then((outcome) => {
      if (this.current !== runner) return;
      this.ended = true;
      this.unconfirmed = undefined;
      this.resolveOutcome(outcome);
      this.bodies?.complete();
      this.missed?.complete();
    });
  }
}

/** Prompts sent through a handle before the ones already in the log are forgotten. */
const UNCONFIRMED_PRUNE_FROM = 16;
