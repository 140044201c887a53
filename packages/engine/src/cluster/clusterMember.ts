import type { ClusterView, Command, Coordination, Lease } from "@cloudsession/store";
import { randomUUID } from "node:crypto";
import type { Clock } from "../clock.js";
import { EngineError } from "../engineError.js";
import { isDamaged } from "../revival.js";
import type { RunnerOwnership, SessionCommand } from "../runnerEnvironment.js";

/** Options of a {@link ClusterMember}, resolved from the engine's `cluster` option. */
export interface ClusterSettings {
  readonly instanceId: string;
  readonly leaseTtlMs: number;
  readonly pollMs: number;
}

/** What the member asks of the engine it belongs to. */
export interface ClusterHost {
  /** Sessions this instance may own at once (the engine's `maxConcurrent`). */
  readonly capacity: number;
  /** Runs a session picked up here, under `lease`. */
  adopt(lease: Lease): Promise<void>;
  /** The session's lease is gone: stop acting on it (the handle keeps following it). */
  lose(sessionId: string): void;
  /** Carries out commands for a session owned here; true when they are done with. */
  apply(sessionId: string, command: SessionCommand): Promise<boolean>;
  /** Catches followers up with the log. */
  refreshFollowers(): Promise<void>;
  /**
   * The process stood still for longer than a lease's safety margin (a long GC pause, SIGSTOP, a
   * suspended VM): leases may have lapsed meanwhile, so requests still queued for the runtime must
   * not go out. Called from a timer, ahead of the I/O callbacks that would flush them.
   */
  onPause(pausedMs: number): void;
  /** Told about failures of the background loops; they retry on their next tick. */
  onError(error: unknown, sessionId: string): void;
  onOwnershipChange(sessionId: string, kind: "acquired" | "lost" | "released"): void;
}

/** Only streams that are sessions are picked up (the store may hold other streams). */
const SESSION_STREAM = "session.requested";
/** Leases claimed per round: large enough to take over a dead instance's sessions in a few rounds. */
const CLAIM_BATCH = 64;

interface HeldLease {
  lease: Lease;
  /** Local clock time until which the lease is surely still ours (see `mayAct`). */
  validUntil: number;
}

/**
 * One instance's part in a cluster: holds and renews the leases of the sessions it owns, picks up
 * free and orphaned sessions (its fair share, up to its capacity), carries out commands sent to its
 * sessions from other instances, and forwards commands for sessions owned elsewhere.
 */
export class ClusterMember implements RunnerOwnership {
  private readonly held = new Map<string, HeldLease>();
  /** Sessions whose log this instance found damaged: reported once, never claimed again by it. */
  private readonly damaged = new Set<string>();
  private readonly timers = new Set<unknown>();
  private stopped = false;
  private polling: Promise<void> | undefined;
  private pollAgain = false;
  private unsubscribe: (() => void) | undefined;
  /** Leases may lapse a little early by our clock: a paused process must not act on a stale one. */
  private readonly safetyMs: number;

  constructor(
    private readonly coordination: Coordination,
    private readonly settings: ClusterSettings,
    private readonly clock: Clock,
    private readonly host: ClusterHost,
  ) {
    this.safetyMs = Math.max(50, Math.floor(settings.leaseTtlMs / 10));
  }

  get instanceId(): string {
    return this.settings.instanceId;
  }

  get ownedCount(): number {
    return this.held.size;
  }

  owns(sessionId: string): boolean {
    return this.held.has(sessionId);
  }

  /** Starts the renew and poll loops. */
  start(): void {
    this.unsubscribe = this.coordination.onChange(() => this.pollSoon());
    this.every(Math.max(1, Math.floor(this.settings.leaseTtlMs / 3)), () => this.renew());
    this.every(this.settings.pollMs, () => {
      this.pollSoon();
      return this.polling ?? Promise.resolve();
    });
    this.watchForPauses();
    this.pollSoon();
  }

  /**
   * A short timer that notices when the process did not run: after SIGCONT (or a long pause) the
   * overdue timer fires before the socket callbacks that would flush sends queued before it, so
   * the engine can drop that connection while the leases are in doubt.
   */
  private watchForPauses(): void {
    const periodMs = Math.max(10, Math.min(100, Math.floor(this.safetyMs / 2)));
    let last = this.clock.now();
    const tick = (): void => {
      const handle = this.clock.setTimeout(() => {
        this.timers.delete(handle);
        if (this.stopped) return;
        const now = this.clock.now();
        const paused = now - last - periodMs;
        last = now;
        if (paused > this.safetyMs && this.held.size > 0) this.host.onPause(paused);
        this.dropExpired(now);
        tick();
      }, periodMs);
      this.timers.add(handle);
    };
    tick();
  }

  // ---- RunnerOwnership ----------------------------------------------------------------------

  /** The safety margin: a previous owner stopped sending at least this long before its lease ran out. */
  get inDoubtGraceMs(): number {
    return this.safetyMs;
  }

  mayAct(sessionId: string, token: number): boolean {
    const held = this.held.get(sessionId);
    return held !== undefined && held.lease.token === token && this.clock.now() < held.validUntil;
  }

  lost(sessionId: string, token: number | undefined): void {
    // Only the lease the runner acted under: a runner of an earlier lease of this session, reporting
    // late (its last append refused), must not drop the lease its successor here now holds.
    if (token === undefined || this.held.get(sessionId)?.lease.token !== token) return;
    this.drop(sessionId);
  }

  private drop(sessionId: string): void {
    if (!this.held.delete(sessionId)) return;
    this.host.onOwnershipChange(sessionId, "lost");
    this.host.lose(sessionId);
  }

  async forward(sessionId: string, command: SessionCommand): Promise<void> {
    // A prompt's id is its idempotency key end to end: issued once, submitted once.
    const commandId = command.type === "prompt.submit" ? `prompt:${command.promptId}` : `${command.type}:${randomUUID()}`;
    await this.coordination.issue({ commandId, streamId: sessionId, type: command.type, data: { ...command } });
    this.pollSoon();
  }

  // ---- taking and giving up sessions --------------------------------------------------------

  /** Takes the lease of one session (a new one, or one resumed here); null when another instance holds it. */
  async acquire(sessionId: string): Promise<Lease | null> {
    const askedAt = this.clock.now();
    const lease = await this.coordination.acquire(sessionId, this.instanceId, this.settings.leaseTtlMs);
    if (lease === null) return null;
    this.hold(lease, askedAt);
    return lease;
  }

  /** Gives up the lease of a session that ended here, or on shutdown. */
  async release(sessionIds: readonly string[]): Promise<void> {
    const leases: Lease[] = [];
    for (const sessionId of sessionIds) {
      const held = this.held.get(sessionId);
      if (held === undefined) continue;
      this.held.delete(sessionId);
      leases.push(held.lease);
    }
    if (leases.length === 0) return;
    await this.coordination.release(leases);
    for (const lease of leases) this.host.onOwnershipChange(lease.streamId, "released");
  }

  /** One round of pick-up now; resolves to the sessions adopted. */
  async pickUp(): Promise<readonly Lease[]> {
    // An instance counts as live as long as its leases would: a dead one stops shrinking the others'
    // fair shares at the moment its sessions become free to take.
    const view = await this.coordination.announce(this.instanceId, { ttlMs: this.settings.leaseTtlMs, firstEventType: SESSION_STREAM });
    const wanted = Math.min(this.host.capacity - this.held.size, fairShare(view) - this.held.size, CLAIM_BATCH);
    if (wanted <= 0 || this.stopped) return [];
    const askedAt = this.clock.now();
    const leases = await this.coordination.claim({ owner: this.instanceId, ttlMs: this.settings.leaseTtlMs, limit: wanted, firstEventType: SESSION_STREAM, exclude: [...this.damaged] });
    for (const lease of leases) this.hold(lease, askedAt);
    await Promise.all(
      leases.map(async (lease) => {
        try {
          await this.host.adopt(lease);
        } catch (error) {
          // Left out of later claims: taken up every round, it would be reported every round
          // and, oldest first, hold the place of a healthy session in each claim.
          if (isDamaged(error)) this.damaged.add(lease.streamId);
          this.host.onError(error, lease.streamId);
          await this.release([lease.streamId]).catch(() => undefined);
        }
      }),
    );
    return leases;
  }

  /** Stops the loops (engine shutdown); sessions keep their leases until `leave`. */
  async halt(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    for (const timer of this.timers) this.clock.clearTimeout(timer);
    this.timers.clear();
    await this.polling;
  }

  /** Hands every lease back, so other instances take over at once, and leaves the registry. */
  async leave(): Promise<void> {
    await this.release([...this.held.keys()]).catch((error: unknown) => this.host.onError(error, "*"));
    await this.coordination.retire(this.instanceId).catch((error: unknown) => this.host.onError(error, "*"));
  }

  /**
   * A lease not renewed in time is given up here, whatever the store would still say: this
   * instance can no longer be sure it holds it (a renewal may be stuck on a dead connection), so
   * it stops acting, and the session lapses to whoever claims it next, this instance included.
   */
  private dropExpired(now: number): void {
    for (const [sessionId, held] of this.held) if (now >= held.validUntil) this.drop(sessionId);
  }

  private hold(lease: Lease, askedAt: number): void {
    // The store set the expiry at or after the moment we asked, so ours is a safe lower bound.
    this.held.set(lease.streamId, { lease, validUntil: askedAt + this.settings.leaseTtlMs - this.safetyMs });
    this.host.onOwnershipChange(lease.streamId, "acquired");
  }

  // ---- loops ---------------------------------------------------------------------------------

  private every(periodMs: number, work: () => Promise<unknown>): void {
    const tick = (): void => {
      const handle = this.clock.setTimeout(() => {
        this.timers.delete(handle);
        if (this.stopped) return;
        void work()
          .catch((error: unknown) => this.host.onError(error, "*"))
          .finally(() => {
            if (!this.stopped) tick();
          });
      }, periodMs);
      this.timers.add(handle);
    };
    tick();
  }

  private async renew(): Promise<void> {
    const mine = [...this.held.values()];
    if (mine.length === 0) return;
    const askedAt = this.clock.now();
    const renewed = await this.coordination.renew(
      mine.map((held) => held.lease),
      this.settings.leaseTtlMs,
    );
    const kept = new Set<string>();
    for (const lease of renewed) {
      const held = this.held.get(lease.streamId);
      if (held === undefined || held.lease.token !== lease.token) continue;
      kept.add(lease.streamId);
      held.lease = lease;
      held.validUntil = askedAt + this.settings.leaseTtlMs - this.safetyMs;
    }
    for (const held of mine) {
      if (!kept.has(held.lease.streamId) && this.held.get(held.lease.streamId) === held) this.drop(held.lease.streamId);
    }
  }

  /** Coalesces wake-ups: one poll runs at a time, and a wake-up during it runs one more. */
  private pollSoon(): void {
    if (this.stopped) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = this.poll()
      .catch((error: unknown) => this.host.onError(error, "*"))
      .finally(() => {
        this.polling = undefined;
        if (this.pollAgain) {
          this.pollAgain = false;
          this.pollSoon();
        }
      });
  }

  private async poll(): Promise<void> {
    await this.pickUp();
    await this.runCommands();
    await this.host.refreshFollowers();
  }

  private async runCommands(): Promise<void> {
    if (this.held.size === 0 || this.stopped) return;
    const pending = await this.coordination.pending([...this.held.keys()]);
    const bySession = new Map<string, Command[]>();
    for (const command of pending) {
      const commands = bySession.get(command.streamId);
      if (commands === undefined) bySession.set(command.streamId, [command]);
      else commands.push(command);
    }
    const done: string[] = [];
    await Promise.all(
      [...bySession].map(async ([sessionId, commands]) => {
        // In issue order, one after another: a prompt before a close stays before it.
        for (const command of commands) {
          const parsed = parseCommand(command);
          if (parsed === undefined) {
            done.push(command.commandId); // not ours to understand: drop it rather than retry forever
            this.host.onError(new EngineError("INVALID_ARGUMENT", `unknown command ${command.type} for session ${sessionId}`), sessionId);
            continue;
          }
          if (!this.held.has(sessionId) || !(await this.host.apply(sessionId, parsed))) return;
          done.push(command.commandId);
        }
      }),
    );
    if (done.length > 0) await this.coordination.complete(done);
  }
}

/** Sessions per live instance, rounded up: each instance takes at most this many. */
function fairShare(view: ClusterView): number {
  return Math.ceil(view.openStreams / Math.max(1, view.liveInstances));
}

function parseCommand(command: Command): SessionCommand | undefined {
  const data = command.data;
  if (typeof data !== "object" || data === null || Array.isArray(data)) return undefined;
  const record = data as Record<string, unknown>;
  switch (command.type) {
    case "prompt.submit":
      return typeof record.promptId === "string" && typeof record.text === "string" ? { type: "prompt.submit", promptId: record.promptId, text: record.text } : undefined;
    case "turn.abort":
      return typeof record.promptId === "string" ? { type: "turn.abort", promptId: record.promptId } : undefined;
    case "session.close":
      return typeof record.reason === "string" ? { type: "session.close", reason: record.reason } : { type: "session.close" };
    default:
      return undefined;
  }
}
