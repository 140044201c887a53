import {
  createSessionActor,
  inputFromRequest,
  lifecycleState,
  nextDeadline,
  promptToDispatch,
  wantsAbort,
  wantsReservation,
  type LifecycleState,
  type PromptRecord,
  type Repository,
  type SessionEvent,
  type SessionLogEvent,
  type SessionOutcome,
  type SessionActor,
  type SessionRequested,
  type SessionSnapshot,
} from "@cloudsession/machine";
import { assembleText, createMachineEventMapper, selectLifecycleState, selectRemoteUrl, snapshots, type RawSessionEvent, type TurnText } from "@cloudsession/rx";
import { StoreError, isStoreError, type EventStore, type JsonObject, type Lease, type NewEvent } from "@cloudsession/store";
import type { CopilotSession, PermissionHandler } from "@github/copilot-sdk";
import { Subject, share, type Observable } from "rxjs";
import type { InspectionEvent } from "xstate";
import { classifyCreateError } from "./classifyCreateError.js";
import { MAX_TIMER_DELAY_MS, type Clock } from "./clock.js";
import { EngineError } from "./engineError.js";
import { fulfilledWithin } from "./fulfilledWithin.js";
import { encodeEvent } from "./eventCodec.js";
import { settleFromHistory } from "./settleFromHistory.js";
import type { RuntimeConnectionManager } from "./runtimeConnection.js";
import type { Slots } from "./slots.js";

/** What every runner shares with the engine. */
export interface RunnerEnvironment {
  readonly store: EventStore;
  readonly clock: Clock;
  readonly random: () => number;
  readonly newPromptId: () => string;
  readonly runtime: RuntimeConnectionManager;
  readonly slots: Slots;
  readonly persistDeltas: boolean;
  readonly onPermissionRequest: PermissionHandler;
  /** Told once about a failure the runner cannot report through its session (e.g. the store is down). */
  readonly onBackgroundError: (error: unknown, sessionKey: string) => void;
  /** Passed to each session actor: XState inspection (e.g. the Stately inspector). */
  readonly inspect?: (event: InspectionEvent) => void;
  /** Fault-injection seam: called synchronously at each labelled point of the write-ahead protocol. */
  readonly probe: ((point: ProbePoint, sessionKey: string) => void) | undefined;
  /** Cluster mode: leases and commands (absent when this engine is the store's only writer). */
  readonly ownership?: RunnerOwnership;
  /**
   * Single instance: the runner stopped because an append failed (the store went away, a bug). The
   * engine continues the session from its log once the store answers again (cluster mode has
   * `ownership.lost` for this).
   */
  readonly onAppendFailed?: (sessionKey: string) => void;
}

/** What an append carries to prove its writer still holds the session's lease. */
export type Fence = Pick<Lease, "owner" | "token">;

/** A request to the instance that owns a session, from a handle on another instance. */
export type SessionCommand =
  | { readonly type: "prompt.submit"; readonly promptId: string; readonly text: string }
  | { readonly type: "turn.abort"; readonly promptId: string }
  | { readonly type: "session.close"; readonly reason?: string };

/** How a runner takes part in a cluster; see the engine's `cluster` option. */
export interface RunnerOwnership {
  /**
   * False once this lease may have lapsed by the local clock, or was replaced: a side effect the
   * store cannot fence (create, send, abort on the runtime) is then left to the next owner.
   */
  mayAct(sessionKey: string, token: number): boolean;
  /**
   * The runner acting under lease `token` stopped (an append refused with `LEASE_LOST`, or its
   * lease may have lapsed): the session has moved on without it. A stale token changes nothing.
   */
  lost(sessionKey: string, token: number | undefined): void;
  /** Hands a command to the owning instance (a follower's `send`, `close`, `abortTurn`). */
  forward(sessionKey: string, command: SessionCommand): Promise<void>;
  /**
   * How long a new owner waits before settling a logged-but-unconfirmed send from the session's
   * history: the previous owner may have had it on the wire when the lease moved.
   */
  readonly inDoubtGraceMs: number;
}

/**
 * The labelled points crash tests can stop the process at: just after an event type was made
 * durable (`recorded:<type>`), and just before and after each call to the runtime.
 */
export type ProbePoint =
  | `recorded:${SessionLogEvent["type"]}`
  | "before:createSession"
  | "after:createSession"
  | "before:send"
  | "after:send"
  | "before:resumeSession"
  | "after:resumeSession";

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

/**
 * Runs one session: records every fact in the log before acting on it, feeds it to the machine,
 * and performs whatever the resulting snapshot asks for (create, dispatch, abort, arm a timer).
 * Level-triggered on purpose: a runner rebuilt from the log after a crash does the right thing
 * by looking at the same snapshot.
 */
export class SessionRunner implements SessionHandle {
  readonly id: string;
  readonly outcome: Promise<SessionOutcome>;
  private readonly recorded = new Subject<SessionLogEvent>();
  private readonly textFeed = new Subject<SessionEvent>();
  /** Raw SDK events to machine events (de-duplicated); a plain function, not a Subject and a pipe. */
  private readonly toMachineEvent: (event: RawSessionEvent) => SessionEvent | undefined;
  private readonly actor: SessionActor;
  // The views are built on first use: most of thousands of idle sessions are never watched.
  private stateView: Observable<LifecycleState> | undefined;
  private remoteUrlView: Observable<string> | undefined;
  private textView: Observable<TurnText> | undefined;
  private version: number;
  private chain: Promise<void> = Promise.resolve();
  private resolveOutcome!: (outcome: SessionOutcome) => void;
  private sdkSession: CopilotSession | undefined;
  private attachedGeneration = -1;
  private creating = false;
  private dispatching = false;
  /** The send in flight (from the SDK call until its outcome is recorded), if any. */
  private sending: Promise<void> | undefined;
  private attaching = false;
  private abortSentFor: string | null = null;
  private holdsSlot = false;
  private slotRequest: { cancel: () => void } | undefined;
  private timer: { at: number; handle: unknown } | undefined;
  private lastProgressAt = Number.NEGATIVE_INFINITY;
  private stopped = false;
  /** Set by `detach()` (engine shutdown, a lost lease): nothing more is done for the session here. */
  private detached = false;
  /** Set on a follower another runner replaced: its pending forwards stop. */
  private retired = false;
  /** An append failed (or was refused): this runner writes nothing more. */
  private appendFailed = false;
  /** A follower mirrors a session another instance owns: it reads the log and forwards commands. */
  private following = false;
  /** Cluster mode: the lease this runner acts under; every append carries it. */
  private lease: Fence | undefined;
  /** Read through a method: `stopped` changes across awaits, which narrowing cannot see. */
  private isStopped(): boolean {
    return this.stopped;
  }
  /** Set once the final state is in the log and the outcome resolved. */
  private finalized = false;
  /** An append is in flight: the machine is ahead of the log until it lands. */
  private appending = false;
  private readonly knownAssistantMessages = new Set<string>();
  private reattachFailures = 0;
  private reattachTimer: unknown;

  private constructor(
    private readonly env: RunnerEnvironment,
    id: string,
    private readonly request: SessionRequested,
    version: number,
  ) {
    this.id = id;
    this.version = version;
    this.actor = createSessionActor(inputFromRequest(request), env.inspect === undefined ? {} : { inspect: env.inspect });
    this.outcome = new Promise((resolve) => (this.resolveOutcome = resolve));
    this.toMachineEvent = createMachineEventMapper({ now: () => env.clock.now() });
  }

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

  /**
   * A new session: usable at once; its request (and first prompts) are the first commit, and
   * everything else queues behind it.
   */
  static begin(
    env: RunnerEnvironment,
    id: string,
    request: SessionRequested,
    prompts: readonly string[],
    metadata: JsonObject,
    gate?: (runner: SessionRunner) => Promise<void>,
  ): SessionRunner {
    const runner = new SessionRunner(env, id, request, 0);
    // Cluster mode: the session's lease is taken before its first append (which carries it).
    if (gate !== undefined) runner.chain = gate(runner);
    const submitted: SessionEvent[] = prompts.map((text) => ({ type: "prompt.submitted", promptId: env.newPromptId(), text, at: request.at }));
    void runner.commit(submitted, { leading: request, metadata, expectedVersion: "no_stream" });
    return runner;
  }

  /**
   * The same new session once more, after its first append failed and the log never got it: same
   * id, request and prompts (under their ids, so a handle re-submitting one finds it known).
   */
  static beginAgain(env: RunnerEnvironment, failed: SessionRunner, metadata: JsonObject): SessionRunner {
    const runner = new SessionRunner(env, failed.id, failed.request, 0);
    const submitted: SessionEvent[] = failed.snapshot().context.prompts.map((prompt) => ({ type: "prompt.submitted", promptId: prompt.id, text: prompt.text, at: failed.request.at }));
    void runner.commit(submitted, { leading: failed.request, metadata, expectedVersion: "no_stream" });
    return runner;
  }

  /** A session rebuilt from its log (replay equals live); `attach()` then continues it. */
  static restore(env: RunnerEnvironment, id: string, log: readonly SessionLogEvent[], version: number): SessionRunner {
    const [request, ...rest] = log;
    if (request?.type !== "session.requested") throw new EngineError("CORRUPTED_LOG", `session ${id}: the log does not start with session.requested`);
    const runner = new SessionRunner(env, id, request, version);
    for (const [index, event] of rest.entries()) {
      if (event.type === "session.requested") throw new EngineError("CORRUPTED_LOG", `session ${id}: a second session.requested`);
      if (runner.actor.getSnapshot().status !== "active") break;
      // As in `replay`: in a run of signs of life only the last can change the snapshot (the stall deadline).
      if (isSignOfLife(event) && isSignOfLife(rest[index + 1])) continue;
      runner.actor.send(event);
      runner.noteRecorded(event);
    }
    return runner;
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

  send(text: string): string {
    if (typeof text !== "string" || text.trim() === "") throw new EngineError("INVALID_ARGUMENT", "a prompt must be a non-empty string");
    this.assertActive();
    const promptId = this.env.newPromptId();
    if (this.following) void this.forward({ type: "prompt.submit", promptId, text });
    else void this.commit([{ type: "prompt.submitted", promptId, text, at: this.env.clock.now() }]);
    return promptId;
  }

  /**
   * Submits a prompt under a known id, at most once: skipped when the log already has it. For a
   * prompt that must survive a change of owner (cluster mode); `send` mints a fresh id instead.
   */
  submit(promptId: string, text: string): void {
    if (this.actor.getSnapshot().status !== "active") return;
    if (this.following) {
      void this.forward({ type: "prompt.submit", promptId, text });
      return;
    }
    void this.commit(() =>
      this.actor.getSnapshot().context.prompts.some((prompt) => prompt.id === promptId) ? [] : [{ type: "prompt.submitted", promptId, text, at: this.env.clock.now() }],
    );
  }

  async abortTurn(): Promise<void> {
    this.assertActive();
    if (this.state !== "streaming") return;
    const inFlight = this.actor.getSnapshot().context.inFlight;
    if (this.following) {
      if (inFlight !== null) await this.forward({ type: "turn.abort", promptId: inFlight });
      return;
    }
    await this.commit([{ type: "turn.abort-requested", at: this.env.clock.now() }]);
  }

  async close(reason?: string): Promise<SessionOutcome> {
    if (this.following) {
      if (this.actor.getSnapshot().status === "active") await this.forward(reason === undefined ? { type: "session.close" } : { type: "session.close", reason });
      return this.outcome;
    }
    await this.requestClose(reason);
    return this.outcome;
  }

  /**
   * Engine shutdown with `sessions: "close"`: closes the session and waits for its end, unless the
   * runner stopped (its close, or an earlier append, was refused): that session stays open in the
   * log, recoverable, instead of holding the shutdown.
   */
  async closeForShutdown(reason: string): Promise<void> {
    await this.requestClose(reason);
    if (!this.isStopped()) await this.outcome;
  }

  private async requestClose(reason: string | undefined): Promise<void> {
    if (this.actor.getSnapshot().status !== "active") return;
    const wasStreaming = this.state === "streaming";
    await this.commit([reason === undefined ? { type: "close.requested", at: this.env.clock.now() } : { type: "close.requested", reason, at: this.env.clock.now() }]);
    if (wasStreaming && !this.isStopped()) await this.sdkSession?.abort().catch(() => undefined);
  }

  /**
   * Continues a restored session: re-attaches to its SDK session (without `cloud`), settles what
   * happened while nobody was watching from the session's history, and resumes the queue.
   */
  async attach(): Promise<void> {
    if (this.actor.getSnapshot().status !== "active") {
      this.finalize();
      return;
    }
    if (this.sessionId !== null) await this.reattach();
    this.reconcile();
  }

  /** The engine found the connection lost and replaced the client: attach to the new one. */
  async onClientReplaced(): Promise<void> {
    if (this.isStopped() || this.sessionId === null || this.actor.getSnapshot().status !== "active") return;
    await this.reattach();
    this.reconcile();
  }

  /** Stops acting (engine shutdown) without ending the session: it stays recoverable from the log. */
  async detach(): Promise<void> {
    this.stopped = true;
    this.detached = true;
    this.clearTimer();
    this.slotRequest?.cancel();
    await this.chain;
    // A send already on the wire is seen through and its messageId recorded: whoever continues the
    // session (another instance, a restart) then finds the prompt dispatched. Released without
    // that, a new owner may read the history before the prompt lands in it and send it again.
    if (this.sending !== undefined) await fulfilledWithin(this.sending, IN_FLIGHT_SEND_GRACE_MS);
    await this.chain;
    this.dropSdkSession(false);
    this.releaseSlot();
  }

  /**
   * The ids of the prompts in the log, when this runner's machine is not ahead of it (no append in
   * flight, none refused); undefined otherwise.
   */
  recordedPromptIds(): ReadonlySet<string> | undefined {
    if (this.appending || this.appendFailed || this.following) return undefined;
    return new Set(this.actor.getSnapshot().context.prompts.map((prompt) => prompt.id));
  }

  /** Waits until every recorded event is in the store. */
  settled(): Promise<void> {
    return this.chain;
  }

  // ---- cluster: following a session owned elsewhere, and commands for an owned one ------------

  /** A runner that never acts: it mirrors the log (see `applyLogged`) and forwards commands to the owner. */
  static follower(env: RunnerEnvironment, id: string, log: readonly SessionLogEvent[], version: number): SessionRunner {
    const runner = SessionRunner.restore(env, id, log, version);
    runner.following = true;
    runner.stopped = true;
    if (runner.actor.getSnapshot().status !== "active") runner.finalize();
    return runner;
  }

  /** Cluster mode: the lease this runner acts under (set once, before it acts). */
  actUnder(lease: Fence): void {
    this.lease = { owner: lease.owner, token: lease.token };
  }

  /** True for a runner that mirrors a session owned by another instance. */
  get isFollower(): boolean {
    return this.following;
  }

  /** The stream version this runner has applied (owner: written; follower: read). */
  get appliedVersion(): number {
    return this.version;
  }

  /** Follower: applies events another instance wrote, in log order, from `appliedVersion + 1`. */
  applyLogged(events: readonly SessionLogEvent[], version: number): void {
    if (!this.following || version <= this.version) return;
    for (const event of events) {
      if (this.actor.getSnapshot().status !== "active") break;
      if (event.type === "session.requested") throw new EngineError("CORRUPTED_LOG", `session ${this.id}: a second session.requested`);
      this.actor.send(event);
      this.noteRecorded(event);
      this.recorded.next(event);
      if (event.type === "assistant.message" || event.type === "assistant.delta" || event.type === "turn.idle") this.textFeed.next(event);
    }
    this.version = version;
    if (this.actor.getSnapshot().status !== "active") this.finalize();
  }

  /**
   * Owner: carries out a command from another instance. Idempotent, so a command re-read after a
   * crash (recorded, but not yet completed) changes nothing: a prompt already in the log is skipped,
   * an abort targets only the turn it was issued for. True when the command is done with.
   */
  async applyCommand(command: SessionCommand): Promise<boolean> {
    if (this.following) return false;
    switch (command.type) {
      case "prompt.submit":
        this.submit(command.promptId, command.text);
        await this.chain;
        break;
      case "turn.abort":
        await this.commit(() => (this.state === "streaming" && this.actor.getSnapshot().context.inFlight === command.promptId ? [{ type: "turn.abort-requested", at: this.env.clock.now() }] : []));
        break;
      case "session.close":
        await this.requestClose(command.reason);
        break;
    }
    // Done once the session's log has it, or the session had ended: a stopped runner's last append
    // may have been refused (the lease was lost) even though its machine took the command, so the
    // command stays pending for the next owner, which applies it idempotently.
    return this.finalized || !this.isStopped();
  }

  private forward(command: SessionCommand): Promise<void> {
    const ownership = this.env.ownership;
    if (ownership === undefined) return Promise.resolve();
    return this.forwardWithRetry(ownership, command);
  }

  /**
   * A command the store could not take (a dropped connection, a failover) is tried again for as
   * long as this runner stands for the session here: unsent, a close would leave the caller's
   * `close()` waiting for good and a prompt would be lost. The first failures are reported once
   * (after {@link FORWARD_REPORT_AFTER} tries) so an outage is visible; a command still unsent when
   * the engine closes is reported as not delivered. A follower replaced by another runner stops:
   * the handle re-submits unconfirmed prompts and a close to the new one. Issuing is idempotent for
   * prompts (their id is the key); a second close or abort is harmless to the owner.
   */
  private async forwardWithRetry(ownership: RunnerOwnership, command: SessionCommand): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await ownership.forward(this.id, command);
        return;
      } catch (error) {
        if (isStoreError(error, "STORE_CLOSED") || isStoreError(error, "INVALID_ARGUMENT")) {
          this.env.onBackgroundError(error, this.id);
          return;
        }
        if (attempt === FORWARD_REPORT_AFTER) this.env.onBackgroundError(error, this.id);
        await this.sleep(Math.min(FORWARD_RETRY_MAX_WAIT_MS, 100 * 2 ** (attempt - 1)));
        if (this.finalized || this.retired) return;
        if (this.detached) {
          this.env.onBackgroundError(new EngineError("ENGINE_CLOSED", `session ${this.id}: the engine closed before a ${command.type} command could be stored; it was not delivered`, { cause: error }), this.id);
          return;
        }
      }
    }
  }

  /** A follower that another runner replaced here: it forwards nothing more (see `forwardWithRetry`). */
  retire(): void {
    this.retired = true;
  }

  /**
   * False when a cluster lease may have lapsed by the local clock (e.g. the process was frozen): the
   * runner then stops, and a side effect the store cannot fence (create, send, abort) is left to
   * whoever owns the session next, which settles it from the log and the session's history.
   */
  private mayAct(): boolean {
    const ownership = this.env.ownership;
    if (ownership === undefined || (this.lease !== undefined && ownership.mayAct(this.id, this.lease.token))) return true;
    this.stopped = true;
    this.clearTimer();
    ownership.lost(this.id, this.lease?.token);
    return false;
  }

  // ---- recording -------------------------------------------------------------------------

  /**
   * Write-ahead: events go to the log first, then to the machine, then the runner acts on the new
   * snapshot. Serialised per session, so the log order is the machine's order.
   */
  private commit(
    events: readonly SessionEvent[] | (() => readonly SessionEvent[]),
    options: { leading?: SessionRequested; metadata?: JsonObject; expectedVersion?: "no_stream" } = {},
  ): Promise<void> {
    const run = async () => {
      // After a refused append the machine is ahead of the log: nothing more is written from it
      // (a later append could land and leave a gap); a new runner continues from the log.
      if (this.appendFailed || this.actor.getSnapshot().status !== "active") return;
      const accepted: SessionEvent[] = [];
      // A function decides in turn, after every earlier commit: e.g. "submit unless already in the log".
      for (const event of typeof events === "function" ? events() : events) {
        this.actor.send(event);
        accepted.push(event);
        if (this.actor.getSnapshot().status !== "active") break;
      }
      // A prompt these events make due (the agent started, a turn ended, a prompt arrived while
      // ready) records its dispatch intent in the same append: one write, not two, before the send.
      const due = accepted.length > 0 ? this.claimDispatch() : undefined;
      if (due !== undefined) {
        const intent: SessionEvent = { type: "prompt.dispatching", promptId: due.id, at: this.env.clock.now() };
        this.actor.send(intent);
        accepted.push(intent);
      }
      const all: SessionLogEvent[] = options.leading ? [options.leading, ...accepted] : accepted;
      if (all.length === 0) return;
      const final = this.actor.getSnapshot().status !== "active";
      // In a cluster nothing is written without a lease: a runner that lost its own writes nothing.
      const fence = this.env.ownership === undefined ? undefined : this.lease;
      if (this.env.ownership !== undefined && fence === undefined) {
        if (due !== undefined) this.dispatching = false;
        throw new StoreError("LEASE_LOST", `session ${this.id}: no lease held here`, { details: { streamId: this.id } });
      }
      const encoded: NewEvent[] = all.map((event) => ({ ...(encodeEvent(event) as NewEvent), ...(options.metadata && event === options.leading ? { metadata: options.metadata } : {}) }));
      // Cleared on success here, on failure together with `stopped` (below): no moment between.
      this.appending = true;
      const result = await this.env.store.append(this.id, encoded, {
        expectedVersion: options.expectedVersion ?? this.version,
        ...(final ? { markFinal: true } : {}),
        ...(fence === undefined ? {} : { fence }),
        ...(options.leading ? { streamMetadata: streamMetadataOf(options.leading, options.metadata) } : {}),
        ...(this.sessionId !== null && accepted.some((event) => event.type === "reservation.succeeded") ? { streamMetadata: { sessionId: this.sessionId } } : {}),
      });
      this.appending = false;
      this.version = result.nextExpectedVersion;
      if (this.env.probe) for (const event of all) this.env.probe(`recorded:${event.type}`, this.id);
      // The prompt goes out before anyone hears of its intent: a slow subscriber to the session's
      // events must not hold up the send (the agent's start -> prompt latency is a target).
      if (due !== undefined) void this.sendDispatched(due.id, due.text);
      for (const event of all) {
        this.noteRecorded(event);
        this.recorded.next(event);
        if (event.type === "assistant.message" || event.type === "assistant.delta" || event.type === "turn.idle") this.textFeed.next(event);
      }
      this.reconcile();
    };
    const next = this.chain.then(run).catch((error: unknown) => {
      // The machine is ahead of the log now: stop acting; the log is the truth for a recovery.
      this.stopped = true;
      this.appendFailed = true;
      this.appending = false;
      this.clearTimer();
      // A refused fence is no failure: another instance owns the session now and carries on.
      if (!isStoreError(error, "LEASE_LOST") || this.env.ownership === undefined) this.env.onBackgroundError(error, this.id);
      // In a cluster the lease goes too (no longer renewed): whoever takes the session next, this
      // instance included, continues it from the log instead of it waiting for a stopped runner.
      this.env.ownership?.lost(this.id, this.lease?.token);
      if (this.env.ownership === undefined && !this.detached) this.env.onAppendFailed?.(this.id);
    });
    this.chain = next;
    return next;
  }

  /** Every SDK event enters here: it is also proof that the connection is alive. */
  private receive(event: RawSessionEvent): void {
    this.env.runtime.noteActivity(this.env.clock.now());
    this.intake(event);
  }

  /** An SDK event as a machine event, if it is one the lifecycle uses and not seen before; none once ended. */
  private intake(event: RawSessionEvent): void {
    if (this.finalized) return;
    const machineEvent = this.toMachineEvent(event);
    if (machineEvent !== undefined) this.onMachineEvent(machineEvent);
  }

  private noteRecorded(event: SessionLogEvent): void {
    if (event.type === "assistant.message") this.knownAssistantMessages.add(event.messageId);
  }

  private onMachineEvent(event: SessionEvent): void {
    if (this.isStopped()) return;
    if (event.type === "assistant.message" && this.knownAssistantMessages.has(event.messageId)) return;
    if (event.type === "assistant.delta" && !this.env.persistDeltas) {
      // Ephemeral by default: shown live, and the stall deadline hears a coalesced sign of life.
      this.textFeed.next(event);
      const throttle = Math.max(1_000, this.actor.getSnapshot().context.settings.turnStallTimeoutMs / 10);
      if (event.at - this.lastProgressAt >= throttle) {
        this.lastProgressAt = event.at;
        void this.commit([{ type: "turn.progressed", at: event.at }]);
      }
      return;
    }
    void this.commit([event]);
  }

  // ---- acting on the snapshot ------------------------------------------------------------

  private reconcile(): void {
    if (this.isStopped()) return;
    const snapshot = this.actor.getSnapshot();
    if (snapshot.status !== "active") {
      // The machine runs ahead of the log while an append is in flight: the session has ended only
      // once that append lands (the commit reconciles again then); a refused one stops the runner.
      if (!this.appending) this.finalize();
      return;
    }
    this.armTimer(snapshot);
    if (this.attaching) return;
    if (wantsReservation(snapshot) && !this.creating) void this.create(snapshot.context.attempts);
    const prompt = promptToDispatch(snapshot);
    if (prompt && !this.dispatching && this.sdkSession) void this.dispatch(prompt.id, prompt.text);
    if (wantsAbort(snapshot) && this.sdkSession && this.abortSentFor !== snapshot.context.inFlight && this.mayAct()) {
      this.abortSentFor = snapshot.context.inFlight;
      void this.sdkSession.abort().catch(() => undefined);
    }
  }

  private async create(attempt: number): Promise<void> {
    this.creating = true;
    try {
      await this.acquireSlot();
      if (this.isStopped() || !this.isAttempt(attempt)) return;
      const client = await this.env.runtime.client();
      if (this.isStopped() || !this.isAttempt(attempt)) return;
      if (!this.mayAct()) return;
      const early: RawSessionEvent[] = [];
      let session: CopilotSession | undefined;
      try {
        this.env.probe?.("before:createSession", this.id);
        session = await client.createSession({
          streaming: true,
          ...this.target(),
          onPermissionRequest: this.env.onPermissionRequest,
          // Attached before the first event is dispatched; buffered until we know the session.
          onEvent: (event) => (session ? this.receive(event) : early.push(event)),
        });
      } catch (error) {
        if (this.isStopped() || !this.isAttempt(attempt)) return;
        const { failure, message } = classifyCreateError(error);
        await this.commit([{ type: "reservation.failed", failure, message, random: this.env.random(), at: this.env.clock.now() }]);
        return;
      }
      this.env.probe?.("after:createSession", this.id);
      if (this.isStopped() || !this.isAttempt(attempt)) {
        // The session ended (or timed out) while the task was being reserved: let it go.
        await session.disconnect().catch(() => undefined);
        return;
      }
      this.useSdkSession(session);
      await this.commit([{ type: "reservation.succeeded", sessionId: session.sessionId, at: this.env.clock.now() }]);
      for (const event of early) this.receive(event);
      // An early session.start (before the SDK registered the session) was dropped by the client:
      // recover it, and anything else missed, from the stored history.
      await this.catchUpFromHistory(session);
    } catch (error) {
      if (!this.isStopped() && this.isAttempt(attempt)) {
        const { failure, message } = classifyCreateError(error);
        await this.commit([{ type: "reservation.failed", failure, message, random: this.env.random(), at: this.env.clock.now() }]);
      }
    } finally {
      this.creating = false;
      this.reconcile();
    }
  }

  /** What the create call targets: a cloud task in the repository, or the runtime's own process. */
  private target(): { cloud: { repository: Repository } } | { workingDirectory?: string } {
    if (this.request.mode === "local") return this.request.workingDirectory === undefined ? {} : { workingDirectory: this.request.workingDirectory };
    return { cloud: { repository: { ...this.request.repository } } };
  }

  private isAttempt(attempt: number): boolean {
    const snapshot = this.actor.getSnapshot();
    return wantsReservation(snapshot) && snapshot.context.attempts === attempt;
  }

  private async catchUpFromHistory(session: CopilotSession): Promise<void> {
    // A lost read here would lose an early start for good (the session would time out waiting
    // for an agent that is there), so a failed read is retried before giving up.
    let history: readonly RawSessionEvent[] | undefined;
    for (let attempt = 1; history === undefined; attempt++) {
      try {
        history = await session.getEvents();
      } catch (error) {
        if (attempt >= 3 || this.isStopped()) {
          this.env.onBackgroundError(error, this.id);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt).unref());
      }
    }
    const snapshot = this.actor.getSnapshot();
    if (lifecycleState(snapshot) !== "awaiting-agent" && snapshot.context.remoteUrl !== null) return;
    for (const event of history) {
      if (event.type === "session.start" || event.type === "session.info") this.intake(event);
    }
  }

  /**
   * The prompt to dispatch now, if any, marked as being dispatched: the caller records its
   * `prompt.dispatching` and then calls {@link sendDispatched}.
   */
  private claimDispatch(): PromptRecord | undefined {
    if (this.dispatching || this.attaching || this.sdkSession === undefined || this.isStopped()) return undefined;
    const snapshot = this.actor.getSnapshot();
    const prompt = snapshot.status === "active" ? promptToDispatch(snapshot) : undefined;
    if (prompt !== undefined) this.dispatching = true;
    return prompt;
  }

  private async dispatch(promptId: string, text: string): Promise<void> {
    this.dispatching = true;
    await this.commit([{ type: "prompt.dispatching", promptId, at: this.env.clock.now() }]);
    await this.sendDispatched(promptId, text);
  }

  /** Sends a prompt whose `prompt.dispatching` is in the log, then records the outcome. */
  private sendDispatched(promptId: string, text: string): Promise<void> {
    const sending = this.sendAndRecord(promptId, text);
    this.sending = sending;
    void sending.finally(() => {
      if (this.sending === sending) this.sending = undefined;
    });
    return sending;
  }

  private async sendAndRecord(promptId: string, text: string): Promise<void> {
    try {
      const session = this.sdkSession;
      if (this.isStopped() || !session || this.actor.getSnapshot().context.inFlight !== promptId) return;
      // The intent is logged; if the lease may have lapsed the next owner settles it from history.
      if (!this.mayAct()) return;
      let messageId: string;
      try {
        this.env.probe?.("before:send", this.id);
        messageId = await session.send({ prompt: text });
        this.env.probe?.("after:send", this.id);
      } catch (error) {
        if (this.isStopped()) return;
        if (isConnectionError(error) && this.env.runtime.canReconnect) {
          // Unknown whether it arrived: the intent stays open and is settled from history on re-attach.
          void this.reportLostConnection();
          return;
        }
        await this.commit([{ type: "prompt.dispatch-failed", promptId, message: errorMessage(error), requeue: false, at: this.env.clock.now() }]);
        return;
      }
      await this.commit([{ type: "prompt.dispatched", promptId, messageId, at: this.env.clock.now() }]);
    } finally {
      this.dispatching = false;
      this.reconcile();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.env.clock.setTimeout(resolve, ms));
  }

  private lostConnectionReported = false;

  private async reportLostConnection(): Promise<void> {
    if (this.lostConnectionReported) return;
    this.lostConnectionReported = true;
    await this.env.runtime.replace();
    this.lostConnectionReported = false;
    await this.onClientReplaced();
  }

  private async reattach(): Promise<void> {
    const sessionId = this.sessionId;
    if (sessionId === null) return;
    this.attaching = true;
    try {
      await this.acquireSlot();
      if (this.isStopped()) return;
      const client = await this.env.runtime.client();
      if (this.sdkSession && this.attachedGeneration === this.env.runtime.clientGeneration) return;
      this.dropSdkSession(false);
      // Never pass `cloud` on resume: the stored metadata says the session is cloud-backed.
      this.env.probe?.("before:resumeSession", this.id);
      const session = await client.resumeSession(sessionId, {
        streaming: true,
        onPermissionRequest: this.env.onPermissionRequest,
        onEvent: (event) => this.receive(event),
      });
      this.env.probe?.("after:resumeSession", this.id);
      if (this.finalized) {
        // The session ended while this re-attach was on its way: nobody here will use it again.
        void session.disconnect().catch(() => undefined);
        return;
      }
      this.useSdkSession(session);
      await this.commit([{ type: "session.resumed", at: this.env.clock.now() }]);
      // History can only add something while waiting for the agent, without the URL, or mid-turn.
      if (needsHistory(this.actor.getSnapshot())) {
        // A send whose intent is logged but not its outcome may still be on its way from the
        // session's previous owner: let it land before the history decides it was never sent.
        const grace = this.env.ownership?.inDoubtGraceMs ?? 0;
        if (grace > 0 && hasUnconfirmedDispatch(this.actor.getSnapshot())) await this.sleep(grace);
        if (this.isStopped()) return;
        const history = await session.getEvents();
        const settlement = settleFromHistory(this.actor.getSnapshot(), history, this.knownAssistantMessages, this.env.clock.now());
        await this.commit(settlement);
      }
      this.reattachFailures = 0;
    } catch (error) {
      if (!this.isStopped()) await this.retryReattachLater(error);
    } finally {
      this.attaching = false;
    }
  }

  /**
   * Nothing is dispatched until a re-attach has settled the session from its history, so a failed
   * one is retried with backoff (on a new connection when this one is gone) and reported if it
   * keeps failing.
   */
  private async retryReattachLater(error: unknown): Promise<void> {
    this.dropSdkSession(false);
    this.reattachFailures++;
    if (this.reattachFailures === 3) this.env.onBackgroundError(error, this.id);
    if (isConnectionError(error)) await this.env.runtime.replace();
    const delay = Math.min(30_000, 100 * 2 ** Math.min(this.reattachFailures, 9));
    this.reattachTimer = this.env.clock.setTimeout(() => {
      this.reattachTimer = undefined;
      void this.onClientReplaced();
    }, delay);
  }

  private useSdkSession(session: CopilotSession): void {
    this.sdkSession = session;
    this.attachedGeneration = this.env.runtime.clientGeneration;
    this.abortSentFor = null;
  }

  private dropSdkSession(disconnect: boolean): void {
    const session = this.sdkSession;
    this.sdkSession = undefined;
    if (session && disconnect) void session.disconnect().catch(() => undefined);
  }

  // ---- deadlines ---------------------------------------------------------------------------

  /**
   * Keeps one timer on the earliest deadline. A deadline that moved later (every sign of life
   * pushes the turn's stall deadline) keeps the timer where it is, and it re-arms when it fires:
   * one timer per stall window instead of a clear and a set per recorded event.
   */
  private armTimer(snapshot: SessionSnapshot): void {
    const next = nextDeadline(snapshot.context);
    if (next === undefined) {
      this.clearDeadlineTimer();
      return;
    }
    if (this.timer !== undefined && this.timer.at <= next.at) return;
    this.clearDeadlineTimer();
    // Node fires a longer timer at once (after 1 ms, with a warning): a deadline further out than
    // that (a month-long limit) is waited for in steps, each re-arming when it fires.
    const now = this.env.clock.now();
    const delay = Math.min(MAX_TIMER_DELAY_MS, Math.max(0, next.at - now));
    const handle = this.env.clock.setTimeout(() => this.onDeadlineTimer(), delay);
    this.timer = { at: now + delay, handle };
  }

  private onDeadlineTimer(): void {
    this.timer = undefined;
    if (this.isStopped()) return;
    const snapshot = this.actor.getSnapshot();
    const due = snapshot.status === "active" ? nextDeadline(snapshot.context) : undefined;
    if (due === undefined) return;
    const now = this.env.clock.now();
    // Moved on since the timer was set: wait for the deadline as it is now.
    if (due.at > now) {
      this.armTimer(snapshot);
      return;
    }
    void this.commit([{ type: "deadline.fired", deadline: due.name, at: now }]).then(() => this.reconcile());
  }

  private clearDeadlineTimer(): void {
    if (this.timer) this.env.clock.clearTimeout(this.timer.handle);
    this.timer = undefined;
  }

  /** Stops every timer of the runner: its deadline and a pending re-attach. */
  private clearTimer(): void {
    this.clearDeadlineTimer();
    if (this.reattachTimer !== undefined) this.env.clock.clearTimeout(this.reattachTimer);
    this.reattachTimer = undefined;
  }

  // ---- concurrency and the end --------------------------------------------------------------

  private async acquireSlot(): Promise<void> {
    if (this.holdsSlot) return;
    const request = this.env.slots.acquire();
    this.slotRequest = request;
    await request.granted;
    this.slotRequest = undefined;
    this.holdsSlot = true;
    // Ended (or stopped) while waiting in line: hand the slot straight on.
    if (this.isStopped() || this.actor.getSnapshot().status !== "active") this.releaseSlot();
  }

  private releaseSlot(): void {
    if (!this.holdsSlot) return;
    this.holdsSlot = false;
    this.env.slots.release();
  }

  private finalize(): void {
    if (this.finalized) return;
    this.finalized = true;
    this.clearTimer();
    this.slotRequest?.cancel();
    this.dropSdkSession(true);
    this.releaseSlot();
    const output = this.actor.getSnapshot().output;
    if (output) this.resolveOutcome(output);
    this.recorded.complete();
    this.textFeed.complete();
  }

  private assertActive(): void {
    if (this.actor.getSnapshot().status !== "active") throw new EngineError("SESSION_ENDED", `session ${this.id} has ended (${this.state})`);
  }
}

function isSignOfLife(event: SessionLogEvent | undefined): boolean {
  return event?.type === "assistant.delta" || event?.type === "turn.progressed";
}

/** A prompt whose dispatch intent is logged but whose messageId is not: it may or may not have been sent. */
function hasUnconfirmedDispatch(snapshot: SessionSnapshot): boolean {
  return snapshot.context.prompts.some((prompt) => prompt.status === "dispatching");
}

function needsHistory(snapshot: SessionSnapshot): boolean {
  const state = lifecycleState(snapshot);
  return state === "awaiting-agent" || state === "streaming" || snapshot.context.remoteUrl === null;
}

function streamMetadataOf(request: SessionRequested, metadata: JsonObject | undefined): JsonObject {
  const { owner, name, branch } = request.repository;
  return { repository: branch === undefined ? `${owner}/${name}` : `${owner}/${name}@${branch}`, ...(metadata ?? {}) };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isConnectionError(error: unknown): boolean {
  const message = errorMessage(error);
  return /connection (?:is |got |was |has been )?(?:closed|disposed|lost|reset|ended)|ECONNRESET|EPIPE|not connected|write after end|socket|Client not connected/i.test(message);
}

/** Failed tries at storing a follower's command before the failure is reported (after ~0.7 s); it is tried on. */
const FORWARD_REPORT_AFTER = 4;

/** The longest wait between two tries at storing a follower's command (the waits double from 0.1 s). */
const FORWARD_RETRY_MAX_WAIT_MS = 1_000;

/** How long a detaching runner waits for a send already on the wire; a runtime that never answers must not hold a shutdown. */
const IN_FLIGHT_SEND_GRACE_MS = 5_000;
