import {
  createSessionActor,
  inputFromRequest,
  lifecycleState,
  type LifecycleState,
  type SessionActor,
  type SessionLogEvent,
  type SessionOutcome,
  type SessionRequested,
  type SessionSnapshot,
} from "@cloudsession/machine";
import type { TurnText } from "@cloudsession/rx";
import type { Observable } from "rxjs";
import { EngineError } from "./engineError.js";
import type { RunnerEnvironment } from "./runnerEnvironment.js";
import { replayLog } from "./sessionLogs.js";
import { SessionViews } from "./sessionViews.js";

/**
 * What a session's owner ({@link SessionRunner}) and a follower ({@link SessionFollower}) share: the
 * machine's actor fed from the session's log, the views on it, and the outcome once it ends. The
 * two differ in what they do with commands: the owner records and acts, a follower forwards.
 */
export abstract class LoggedSession {
  readonly id: string;
  readonly outcome: Promise<SessionOutcome>;
  protected readonly actor: SessionActor;
  protected readonly views: SessionViews;
  private resolveOutcome!: (outcome: SessionOutcome) => void;
  /** Set once the final state is in the log and the outcome resolved. */
  protected done = false;

  protected constructor(
    protected readonly env: RunnerEnvironment,
    id: string,
    protected readonly request: SessionRequested,
  ) {
    this.id = id;
    this.actor = createSessionActor(inputFromRequest(request), env.inspect === undefined ? {} : { inspect: env.inspect });
    this.outcome = new Promise((resolve) => (this.resolveOutcome = resolve));
    this.views = new SessionViews(this.actor);
  }

  /** True for a session mirrored from a log another instance writes. */
  abstract readonly isFollower: boolean;
  /** The stream version applied so far (owner: written; follower: read). */
  abstract readonly appliedVersion: number;
  /**
   * Queues a prompt under `promptId`, at most once: `recorded` once it is durable, `moved` when the
   * session moved to another runner first (the handle then tries that one).
   */
  abstract submitPrompt(promptId: string, text: string): Promise<"recorded" | "moved">;
  abstract abortTurn(): Promise<void>;
  abstract close(reason?: string): Promise<SessionOutcome>;
  abstract settled(): Promise<void>;
  /** Stops acting (engine shutdown, a lost lease) without ending the session. */
  abstract detach(): Promise<void>;

  /** A fresh prompt id. */
  mintPromptId(): string {
    return this.env.newPromptId();
  }

  get state$(): Observable<LifecycleState> {
    return this.views.state$;
  }

  get remoteUrl$(): Observable<string> {
    return this.views.remoteUrl$;
  }

  get text$(): Observable<TurnText> {
    return this.views.text$;
  }

  get events$(): Observable<SessionLogEvent> {
    return this.views.events$;
  }

  get sessionId(): string | null {
    return this.actor.getSnapshot().context.sessionId;
  }

  get remoteUrl(): string | null {
    return this.actor.getSnapshot().context.remoteUrl;
  }

  get state(): LifecycleState {
    return lifecycleState(this.actor.getSnapshot());
  }

  snapshot(): SessionSnapshot {
    return this.actor.getSnapshot();
  }

  /** Whether the session has not ended (by the machine, which may run ahead of the log); a method, as it changes across awaits. */
  protected isActive(): boolean {
    return this.actor.getSnapshot().status === "active";
  }

  /** Feeds the log after its first event to the machine, checking how it ends (see {@link replayLog}). */
  protected replay(log: readonly SessionLogEvent[], markedFinal: boolean | undefined, onEvent?: (event: SessionLogEvent) => void): void {
    replayLog(this.actor, this.id, log.slice(1), markedFinal, onEvent);
  }

  /** The session ended here: its outcome resolves and its views complete. */
  protected end(): void {
    const output = this.actor.getSnapshot().output;
    if (output) this.resolveOutcome(output);
    this.views.complete();
  }

  protected assertActive(): void {
    if (!this.isActive()) throw new EngineError("SESSION_ENDED", `session ${this.id} has ended (${this.state})`);
  }
}
