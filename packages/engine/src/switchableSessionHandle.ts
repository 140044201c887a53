import type { LifecycleState, SessionLogEvent, SessionOutcome, SessionSnapshot } from "@cloudsession/machine";
import type { TurnText } from "@cloudsession/rx";
import { BehaviorSubject, Subject, distinctUntilChanged, merge, switchMap, type Observable } from "rxjs";
import { EngineError } from "./engineError.js";
import { checkPromptId } from "./promptChecks.js";
import type { SendOptions, SessionHandle } from "./sessionHandle.js";
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
  /** Sends waiting for the runner after this one (their prompt was not written: the session moved). */
  private switched: { promise: Promise<void>; resolve: () => void } | undefined;
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
    // A send the previous runner could not record tries this one (see `send`).
    this.switched?.resolve();
    this.switched = undefined;
    // A close the previous runner accepted but could not record travels on.
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

  /**
   * Queues a prompt; resolves with its id once the prompt is durable (see {@link SessionHandle.send}).
   * When the session moves to another runner before the prompt is written (cluster mode: a lease
   * lost), the same prompt, under the same id, goes to the next runner.
   */
  async send(text: string, options?: SendOptions): Promise<string> {
    const promptId = options?.promptId === undefined ? this.current.mintPromptId() : checkPromptId(options.promptId);
    for (;;) {
      const body = this.current;
      if ((await body.submitPrompt(promptId, text)) === "recorded") return promptId;
      await this.replaced(body);
    }
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

  /** Resolves once `body` no longer stands for the session here; `SESSION_ENDED` if the session ends first. */
  private async replaced(body: LoggedSession): Promise<void> {
    if (this.current === body && !this.ended) {
      let resolve!: () => void;
      this.switched ??= { promise: new Promise<void>((done) => (resolve = done)), resolve: () => resolve() };
      await this.switched.promise;
    }
    if (this.current === body) throw new EngineError("SESSION_ENDED", `session ${this.id} has ended (${this.state})`);
  }

  /** The runner standing for the session, as it changes. */
  private followed(): BehaviorSubject<LoggedSession> {
    return (this.bodies ??= new BehaviorSubject(this.current));
  }

  private watch(runner: LoggedSession): void {
    void runner.outcome.then((outcome) => {
      if (this.current !== runner) return;
      this.ended = true;
      this.resolveOutcome(outcome);
      this.switched?.resolve();
      this.bodies?.complete();
      this.missed?.complete();
    });
  }
}
