import { lifecycleState, promptInFlight, type SessionEvent, type SessionSnapshot } from "@cloudsession/machine";
import type { RawSessionEvent } from "@cloudsession/rx";
import type { CopilotSession } from "@github/copilot-sdk";
import { isConnectionError } from "./connectionErrors.js";
import { contactBack, contactLost } from "./contactEvents.js";
import type { RunnerEnvironment } from "./runnerEnvironment.js";
import type { SdkEventIntake } from "./sdkEventIntake.js";
import { settleFromHistory } from "./settleFromHistory.js";

/** What the attachment needs from its session. */
export interface AttachmentPort {
  readonly id: string;
  /** The SDK session id, once reserved. */
  readonly sessionId: string | null;
  /** The session ended (its final state is in the log). */
  readonly finalized: boolean;
  snapshot(): SessionSnapshot;
  isStopped(): boolean;
  acquireSlot(): Promise<void>;
  /** Records events; a function decides in turn, on the snapshot after every earlier commit. */
  commit(events: readonly SessionEvent[] | (() => readonly SessionEvent[])): Promise<unknown>;
  /** The connection this session was attached to is gone: out of contact until re-attached. */
  onConnectionLost(): Promise<void>;
  /** A new SDK session is attached (its abort state starts afresh). */
  attached(): void;
  reconcile(): void;
  sleep(ms: number): Promise<void>;
}

/**
 * The SDK session a runner acts through: attached after a create, re-attached (never with `cloud`)
 * after a restart or a lost connection, settled from the session's stored history each time, and
 * retried with backoff when re-attaching fails. Contact is recorded: `runtime.disconnected` when
 * the session cannot be reached, `runtime.reconnected` once it is re-attached and settled.
 */
export class SdkAttachment {
  private session: CopilotSession | undefined;
  private generation = -1;
  private reattaching = false;
  private failures = 0;
  private retryTimer: unknown;
  /** The re-attach under way, if any: another waits for it instead of resuming the session a second time. */
  private underWay: Promise<void> | undefined;

  constructor(
    private readonly env: RunnerEnvironment,
    private readonly intake: SdkEventIntake,
    private readonly port: AttachmentPort,
  ) {}

  /** The attached SDK session, if any. */
  get current(): CopilotSession | undefined {
    return this.session;
  }

  /** A re-attach is under way: nothing is dispatched until it has settled the session from history. */
  get attaching(): boolean {
    return this.reattaching;
  }

  /** Attaches `session` (just created, or resumed). */
  use(session: CopilotSession): void {
    this.session = session;
    this.generation = this.env.runtime.clientGeneration;
    this.port.attached();
  }

  /** Forgets the attached session; `disconnect` lets the runtime know (the session ended here). */
  drop(disconnect: boolean): void {
    const session = this.session;
    this.session = undefined;
    if (session && disconnect) void session.disconnect().catch(() => undefined);
  }

  /** Stops a pending retry. */
  clearRetry(): void {
    if (this.retryTimer !== undefined) this.env.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** Attached to the runtime's live connection (not to one found lost, nor to none). */
  get inContact(): boolean {
    return this.session !== undefined && this.env.runtime.isCurrent(this.generation);
  }

  /**
   * A call found the connection gone: the runtime connection is replaced (its listeners, this
   * session's runner among them, then re-attach). A connection already replaced since this session
   * attached is not replaced again: only this session is behind.
   */
  async reportLostConnection(): Promise<void> {
    if (this.generation === this.env.runtime.clientGeneration) await this.env.runtime.replace();
    else await this.port.onConnectionLost();
  }

  /** The engine replaced the client (the connection was lost): attach to the new one. */
  async onClientReplaced(): Promise<void> {
    if (this.port.isStopped() || this.port.sessionId === null || this.port.snapshot().status !== "active") return;
    // Backing off after failed re-attaches: the retry comes on its timer, not in a tight loop.
    if (this.retryTimer !== undefined) return;
    await this.reattach();
    this.port.reconcile();
  }

  /**
   * Resumes the SDK session (without `cloud`) and settles the session from its history. One at a
   * time: a second request (the heartbeat's and a failed send's, say) runs after the first, and
   * does nothing when the first already attached to the current client.
   */
  reattach(): Promise<void> {
    const next = (this.underWay ?? Promise.resolve()).then(() => this.reattachOnce());
    this.underWay = next;
    void next.finally(() => {
      if (this.underWay === next) this.underWay = undefined;
    });
    return next;
  }

  private async reattachOnce(): Promise<void> {
    const sessionId = this.port.sessionId;
    if (sessionId === null) return;
    this.reattaching = true;
    try {
      await this.port.acquireSlot();
      if (this.port.isStopped()) return;
      const client = await this.env.runtime.client();
      if (this.inContact) return;
      this.drop(false);
      // Never pass `cloud` on resume: the stored metadata says the session is cloud-backed.
      this.env.probe?.("before:resumeSession", this.port.id);
      const session = await client.resumeSession(sessionId, {
        streaming: true,
        onPermissionRequest: this.env.onPermissionRequest,
        onEvent: (event) => this.intake.receive(event),
      });
      this.env.probe?.("after:resumeSession", this.port.id);
      if (this.port.finalized) {
        // The session ended while this re-attach was on its way: nobody here will use it again.
        void session.disconnect().catch(() => undefined);
        return;
      }
      this.use(session);
      await this.port.commit([{ type: "session.resumed", at: this.env.clock.now() }]);
      // History can only add something while waiting for the agent, without the URL, or mid-turn.
      if (needsHistory(this.port.snapshot())) {
        // A send whose intent is logged but not its outcome may still be on its way from the
        // session's previous owner: let it land before the history decides it was never sent.
        const grace = this.env.ownership?.inDoubtGraceMs ?? 0;
        if (grace > 0 && hasUnconfirmedDispatch(this.port.snapshot())) await this.port.sleep(grace);
        if (this.port.isStopped()) return;
        const history = await session.getEvents();
        await this.port.commit(() => settleFromHistory(this.port.snapshot(), history, this.intake.knownAssistantMessages, this.env.clock.now()));
      }
      // Settled from history first: only now do the paused deadlines count again.
      await this.port.commit(() => contactBack(this.port.snapshot(), this.env.clock.now()));
      this.failures = 0;
    } catch (error) {
      if (!this.port.isStopped()) await this.retryLater(error);
    } finally {
      this.reattaching = false;
    }
  }

  /**
   * Before a deadline that waits on the runtime is judged: reads the session's history once and
   * records what it holds (an agent's start, a finished turn, an abort). False when the runtime
   * could not be asked (not attached, the connection gone, no answer in time): the verdict waits,
   * the session is out of contact and re-attaches.
   */
  async lookBeforeVerdict(): Promise<boolean> {
    const session = this.session;
    if (session === undefined || !this.inContact) {
      void this.port.onConnectionLost();
      return false;
    }
    let history: readonly RawSessionEvent[] | undefined;
    try {
      history = await this.withinHistoryTimeout(session.getEvents());
    } catch (error) {
      // The runtime answered, with an error: it is there; the deadline is judged on what the log has.
      if (!isConnectionError(error)) return true;
    }
    if (history === undefined) {
      if (!this.port.isStopped()) void this.reportLostConnection();
      return false;
    }
    await this.port.commit(() => settleFromHistory(this.port.snapshot(), history, this.intake.knownAssistantMessages, this.env.clock.now()));
    return true;
  }

  /** `read`'s result, or undefined when no answer comes within {@link HISTORY_READ_TIMEOUT_MS}. */
  private withinHistoryTimeout<T>(read: Promise<T>): Promise<T | undefined> {
    let timer: unknown;
    const timedOut = new Promise<undefined>((resolve) => {
      timer = this.env.clock.setTimeout(() => resolve(undefined), HISTORY_READ_TIMEOUT_MS);
    });
    return Promise.race([read, timedOut]).finally(() => this.env.clock.clearTimeout(timer));
  }

  /**
   * After a create: an early `session.start` (before the SDK registered the session) was dropped
   * by the client, so the agent's start and the URL are recovered from the stored history.
   */
  async catchUpFromHistory(session: CopilotSession): Promise<void> {
    // A lost read here would lose an early start for good (the session would time out waiting
    // for an agent that is there), so a failed read is retried before giving up.
    let history: readonly RawSessionEvent[] | undefined;
    for (let attempt = 1; history === undefined; attempt++) {
      try {
        history = await session.getEvents();
      } catch (error) {
        // The connection is gone: the re-attach that follows settles the session from history.
        if (isConnectionError(error) && !this.port.isStopped()) {
          await this.reportLostConnection();
          return;
        }
        if (attempt >= 3 || this.port.isStopped()) {
          this.env.onBackgroundError(error, this.port.id);
          return;
        }
        await this.port.sleep(100 * attempt);
      }
    }
    const snapshot = this.port.snapshot();
    if (lifecycleState(snapshot) !== "awaiting-agent" && snapshot.context.remoteUrl !== null) return;
    for (const event of history) {
      if (event.type === "session.start" || event.type === "session.info") this.intake.intake(event);
    }
  }

  /**
   * Nothing is dispatched until a re-attach has settled the session from its history, so a failed
   * one is retried with backoff (on a new connection when this one is gone) and reported if it
   * keeps failing.
   */
  private async retryLater(error: unknown): Promise<void> {
    this.drop(false);
    this.failures++;
    // Unreachable (after a restart, say): the deadlines that wait on the runtime pause, the limit runs.
    await this.port.commit(() => contactLost(this.port.snapshot(), this.env.clock.now()));
    if (this.failures === 3) this.env.onBackgroundError(error, this.port.id);
    const delay = Math.min(30_000, 100 * 2 ** Math.min(this.failures, 9));
    this.retryTimer = this.env.clock.setTimeout(() => {
      this.retryTimer = undefined;
      void this.onClientReplaced();
    }, delay);
    // Armed first: the loss this reports comes back as `onClientReplaced`, which waits for the timer.
    if (isConnectionError(error)) await this.env.runtime.replace();
  }
}

/** How long a history read before a verdict may take; no answer counts as a lost connection. */
const HISTORY_READ_TIMEOUT_MS = 10_000;

/** A prompt whose dispatch intent is logged but whose messageId is not: it may or may not have been sent. */
function hasUnconfirmedDispatch(snapshot: SessionSnapshot): boolean {
  return promptInFlight(snapshot.context)?.status === "dispatching";
}

function needsHistory(snapshot: SessionSnapshot): boolean {
  const state = lifecycleState(snapshot);
  return state === "awaiting-agent" || state === "streaming" || snapshot.context.remoteUrl === null;
}
