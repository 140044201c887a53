import type { SessionLogEvent, SessionOutcome } from "@cloudsession/machine";
import { forwardWithRetry, type ForwardingPort } from "./commandForwarding.js";
import { EngineError } from "./engineError.js";
import { LoggedSession, requestOf } from "./loggedSession.js";
import type { RunnerEnvironment, SessionCommand } from "./runnerEnvironment.js";

/**
 * Cluster mode: a session owned by another instance, as seen from here. It never acts: it mirrors
 * the log as the owner writes it (`applyLogged`) and hands commands (`send`, `abortTurn`, `close`)
 * to the owner through the store.
 */
export class SessionFollower extends LoggedSession implements ForwardingPort {
  readonly isFollower = true;
  private version: number;
  /** Set when another runner replaced this follower here: its pending forwards stop. */
  private retired = false;
  /** Set by `detach()` (engine shutdown): a command still unsent is reported as not delivered. */
  private detached = false;

  private constructor(env: RunnerEnvironment, id: string, log: readonly SessionLogEvent[], version: number) {
    super(env, id, requestOf(id, log));
    this.version = version;
    this.replay(log.slice(1));
    if (!this.isActive()) this.finish();
  }

  /** Mirrors the session whose log (at `version`) is `log`. */
  static fromLog(env: RunnerEnvironment, id: string, log: readonly SessionLogEvent[], version: number): SessionFollower {
    return new SessionFollower(env, id, log, version);
  }

  get appliedVersion(): number {
    return this.version;
  }

  send(text: string): string {
    if (typeof text !== "string" || text.trim() === "") throw new EngineError("INVALID_ARGUMENT", "a prompt must be a non-empty string");
    this.assertActive();
    const promptId = this.env.newPromptId();
    void this.forward({ type: "prompt.submit", promptId, text });
    return promptId;
  }

  submit(promptId: string, text: string): void {
    if (this.isActive()) void this.forward({ type: "prompt.submit", promptId, text });
  }

  async abortTurn(): Promise<void> {
    this.assertActive();
    if (this.state !== "streaming") return;
    const inFlight = this.actor.getSnapshot().context.inFlight;
    if (inFlight !== null) await this.forward({ type: "turn.abort", promptId: inFlight });
  }

  async close(reason?: string): Promise<SessionOutcome> {
    if (this.isActive()) await this.forward(reason === undefined ? { type: "session.close" } : { type: "session.close", reason });
    return this.outcome;
  }

  /** A follower records nothing itself. */
  settled(): Promise<void> {
    return Promise.resolve();
  }

  detach(): Promise<void> {
    this.detached = true;
    return Promise.resolve();
  }

  /** Unknown here: the owner's log may be ahead of what this follower has read. */
  recordedPromptIds(): undefined {
    return undefined;
  }

  /** Applies events another instance wrote, in log order, from `appliedVersion + 1`. */
  applyLogged(events: readonly SessionLogEvent[], version: number): void {
    if (version <= this.version) return;
    for (const event of events) {
      if (!this.isActive()) break;
      if (event.type === "session.requested") throw new EngineError("CORRUPTED_LOG", `session ${this.id}: a second session.requested`);
      this.actor.send(event);
      this.views.published(event);
    }
    this.version = version;
    if (!this.isActive()) this.finish();
  }

  /** Another runner stands for the session here now: this one forwards nothing more. */
  retire(): void {
    this.retired = true;
  }

  isDone(): boolean {
    return this.done || this.retired;
  }

  isDetached(): boolean {
    return this.detached;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.env.clock.setTimeout(resolve, ms));
  }

  onBackgroundError(error: unknown): void {
    this.env.onBackgroundError(error, this.id);
  }

  private forward(command: SessionCommand): Promise<void> {
    const ownership = this.env.ownership;
    if (ownership === undefined) return Promise.resolve();
    return forwardWithRetry(ownership, command, this);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.end();
  }
}
