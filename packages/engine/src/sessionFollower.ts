import type { SessionLogEvent, SessionOutcome } from "@cloudsession/machine";
import { FORWARD_REPORT_AFTER, forwardWithRetry, type ForwardingPort, type ForwardOutcome } from "./commandForwarding.js";
import { EngineError } from "./engineError.js";
import { checkPrompt, queueFull } from "./promptChecks.js";
import { LoggedSession } from "./loggedSession.js";
import { requestOf, type SessionLog } from "./sessionLogs.js";
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

  private constructor(env: RunnerEnvironment, id: string, { log, version, final }: SessionLog) {
    super(env, id, requestOf(id, log));
    this.version = version;
    this.replay(log, final);
    if (!this.isActive()) this.finish();
  }

  /**
   * Mirrors the session whose log (at `version`) is `log`.
   *
   * @throws EngineError `CORRUPTED_LOG`
   */
  static fromLog(env: RunnerEnvironment, id: string, read: SessionLog): SessionFollower {
    return new SessionFollower(env, id, read);
  }

  get appliedVersion(): number {
    return this.version;
  }

  /**
   * Hands the prompt to the owner: `recorded` once the command is in the store's inbox (durable;
   * the owner writes it to the log, at most once, under `promptId`), `moved` when another runner
   * replaced this follower first. The queue limit is checked against the log as read here.
   */
  async submitPrompt(promptId: string, text: string): Promise<"recorded" | "moved"> {
    checkPrompt(text, this.env.limits);
    this.assertActive();
    const context = this.actor.getSnapshot().context;
    if (context.prompts.has(promptId)) return "recorded";
    if (context.prompts.queueLength >= this.env.limits.maxQueuedPrompts) throw queueFull(this.id, this.env.limits);
    const outcome = await this.forward({ type: "prompt.submit", promptId, text }, FORWARD_REPORT_AFTER);
    switch (outcome.kind) {
      case "stored":
        return "recorded";
      case "retired":
        return "moved";
      case "ended":
        throw new EngineError("SESSION_ENDED", `session ${this.id} has ended (${this.state})`);
      case "detached":
        throw new EngineError("ENGINE_CLOSED", "the engine closed before the prompt could be stored");
      case "failed":
        throw new EngineError("STORE_UNAVAILABLE", `session ${this.id}: the store did not take the prompt for its owner; retry with the same promptId (a stored one is not added twice)`, { cause: outcome.error, retryAfterMs: 1_000 });
    }
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

  isEnded(): boolean {
    return this.done;
  }

  isRetired(): boolean {
    return this.retired;
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

  private forward(command: SessionCommand, giveUpAfter?: number): Promise<ForwardOutcome> {
    const ownership = this.env.ownership;
    if (ownership === undefined) return Promise.resolve({ kind: "ended" });
    return forwardWithRetry(ownership, command, this, giveUpAfter);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.end();
  }
}
