import type { LifecycleState, SessionLogEvent, SessionOutcome, SessionSnapshot } from "@cloudsession/machine";
import type { TurnText } from "@cloudsession/rx";
import { BehaviorSubject, Subject, distinctUntilChanged, merge, switchMap, type Observable } from "rxjs";
import type { SessionHandle, SessionRunner } from "../sessionRunner.js";

/**
 * The handle a user keeps in cluster mode. The session may move between instances (this one takes
 * it over, loses its lease, takes it back), so the handle delegates to whichever runner currently
 * stands for it here: the owner, or a follower that mirrors the log and forwards commands.
 * Observables and `outcome` continue across those switches.
 */
export class ClusterSessionHandle implements SessionHandle {
  readonly id: string;
  readonly outcome: Promise<SessionOutcome>;
  readonly state$: Observable<LifecycleState>;
  readonly remoteUrl$: Observable<string>;
  readonly text$: Observable<TurnText>;
  readonly events$: Observable<SessionLogEvent>;
  private readonly body$: BehaviorSubject<SessionRunner>;
  private readonly missed = new Subject<SessionLogEvent>();
  private resolveOutcome!: (outcome: SessionOutcome) => void;
  /** Prompts sent through this handle and not yet seen in the log: re-submitted after a switch. */
  private readonly unconfirmed = new Map<string, string>();
  private closeReason: { reason?: string } | undefined;

  constructor(body: SessionRunner) {
    this.id = body.id;
    this.body$ = new BehaviorSubject(body);
    this.outcome = new Promise((resolve) => (this.resolveOutcome = resolve));
    this.state$ = this.body$.pipe(
      switchMap((runner) => runner.state$),
      distinctUntilChanged(),
    );
    this.remoteUrl$ = this.body$.pipe(
      switchMap((runner) => runner.remoteUrl$),
      distinctUntilChanged(),
    );
    this.text$ = this.body$.pipe(switchMap((runner) => runner.text$));
    this.events$ = merge(this.missed, this.body$.pipe(switchMap((runner) => runner.events$)));
    this.events$.subscribe((event) => {
      if (event.type === "prompt.submitted") this.unconfirmed.delete(event.promptId);
    });
    this.watch(body);
  }

  /** The runner standing for the session here now. */
  get body(): SessionRunner {
    return this.body$.getValue();
  }

  /**
   * Puts another runner in place (restored from the log at a later version). `missed` are the log
   * events between the two runners' versions, passed on so `events$` has no gap.
   */
  switchTo(next: SessionRunner, missed: readonly SessionLogEvent[]): void {
    for (const event of missed) this.missed.next(event);
    this.body$.next(next);
    this.watch(next);
    // A prompt or close the previous runner accepted but could not record travels on.
    const known = new Set(next.snapshot().context.prompts.map((prompt) => prompt.id));
    for (const [promptId, text] of this.unconfirmed) {
      if (known.has(promptId)) this.unconfirmed.delete(promptId);
      else next.submit(promptId, text);
    }
    if (this.closeReason !== undefined) void next.close(this.closeReason.reason);
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
    this.unconfirmed.set(promptId, text);
    return promptId;
  }

  abortTurn(): Promise<void> {
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

  private watch(runner: SessionRunner): void {
    void runner.outcome.then((outcome) => {
      if (this.body !== runner) return;
      this.resolveOutcome(outcome);
      this.body$.complete();
      this.missed.complete();
    });
  }
}
