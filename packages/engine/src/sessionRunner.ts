import { wantsReservation, type DeadlineName, type SessionContext, type SessionEvent, type SessionLogEvent, type SessionOutcome, type SessionRequested } from "@cloudsession/machine";
import { isStoreError, type JsonObject } from "@cloudsession/store";
import type { CopilotSession } from "@github/copilot-sdk";
import { DeadlineJudge } from "./deadlineJudge.js";
import { DeadlineTimer, type DeadlinePort } from "./deadlineTimer.js";
import { fulfilledWithin } from "./fulfilledWithin.js";
import { LoggedSession } from "./loggedSession.js";
import { PromptDispatcher, type DispatchPort } from "./promptDispatcher.js";
import { Reservation, type ReservationPort } from "./reservation.js";
import type { Fence, RunnerEnvironment, SessionCommand } from "./runnerEnvironment.js";
import { SdkAttachment, type AttachmentPort } from "./sdkAttachment.js";
import { SdkEventIntake, type IntakePort } from "./sdkEventIntake.js";
import { applyCommand } from "./commandApplication.js";
import { SessionLease } from "./sessionLease.js";
import { asCorruptedLog, requestOf, sessionLogOf, type SessionLog } from "./sessionLogs.js";
import { PromptIntake } from "./promptIntake.js";
import { contactLost } from "./contactEvents.js";
import { SessionRecorder, type CommitOutcome, type RecorderPort } from "./sessionRecorder.js";
import { SlotHold } from "./slotHold.js";

/**
 * Runs one session it owns: records every fact in the log before acting on it, feeds it to the
 * machine, and has its parts do whatever the resulting snapshot asks for: reserve the task
 * ({@link Reservation}), dispatch a prompt or an abort ({@link PromptDispatcher}), re-attach and
 * settle from history ({@link SdkAttachment}), arm a timer ({@link DeadlineTimer}). This class owns
 * the actor and the order of effects; the parts call back through the narrow ports they declare.
 * Level-triggered on purpose: a runner rebuilt from the log after a crash does the right thing by
 * looking at the same snapshot.
 */
export class SessionRunner extends LoggedSession implements RecorderPort, DeadlinePort, IntakePort, DispatchPort, AttachmentPort, ReservationPort {
  readonly isFollower = false;
  private readonly lease: SessionLease;
  private readonly recorder: SessionRecorder;
  private readonly slot: SlotHold;
  private readonly deadlines: DeadlineTimer;
  private readonly sdkIntake: SdkEventIntake;
  private readonly attachment: SdkAttachment;
  private readonly dispatcher: PromptDispatcher;
  /** Made when the machine first asks for a reservation (a restored session rarely does). */
  private reservation: Reservation | undefined;
  private stopped = false;
  /** Set by `detach()` (engine shutdown, a lost lease): nothing more is done for the session here. */
  private detached = false;
  /** Made on first use, like `reservation`: an idle session (thousands may wait) carries neither. */
  private promptIntake: PromptIntake | undefined;
  private deadlineJudge: DeadlineJudge | undefined;
  /** The outcome of the session's first commit (its request and first prompts): see `begin`. */
  private first: Promise<CommitOutcome> | undefined;

  private constructor(env: RunnerEnvironment, id: string, request: SessionRequested, version: number) {
    super(env, id, request);
    this.lease = new SessionLease(env.ownership, id);
    this.recorder = new SessionRecorder(env.store, id, version, this.lease, this);
    this.slot = new SlotHold(env.slots);
    this.deadlines = new DeadlineTimer(env.clock, this);
    this.sdkIntake = new SdkEventIntake(env, this);
    this.attachment = new SdkAttachment(env, this.sdkIntake, this);
    this.dispatcher = new PromptDispatcher(env, this.attachment, this);
  }

  /**
   * A new session: its request (and first prompts) are the first commit, and everything else
   * queues behind it; `accepted` says when that commit is in the log. Cluster mode: `gate` takes
   * the session's lease first.
   */
  static begin(env: RunnerEnvironment, id: string, request: SessionRequested, prompts: readonly string[], metadata: JsonObject, gate?: (runner: SessionRunner) => Promise<void>): SessionRunner {
    const runner = new SessionRunner(env, id, request, 0);
    if (gate !== undefined) void runner.recorder.enqueue(async () => (await gate(runner), "recorded"));
    const submitted: SessionEvent[] = prompts.map((text) => ({ type: "prompt.submitted", promptId: env.newPromptId(), text, at: request.at }));
    runner.first = runner.commit(submitted, { leading: request, metadata });
    return runner;
  }

  /** What became of a new session's first commit (`recorded` once the log has it). */
  get accepted(): Promise<CommitOutcome> {
    return this.first ?? Promise.resolve("recorded");
  }

  /** Why the runner stopped writing (the store's error, or the gate's), if it did. */
  get failure(): unknown {
    return this.recorder.failure;
  }

  /**
   * A session rebuilt from its log (replay equals live); `attach()` then continues it. `final`, the
   * stream's mark, must agree with how the log ends.
   *
   * @throws EngineError `CORRUPTED_LOG`
   */
  static restore(env: RunnerEnvironment, id: string, { log, version, final }: SessionLog): SessionRunner {
    const runner = new SessionRunner(env, id, requestOf(id, log), version);
    runner.replay(log, final, (event) => runner.sdkIntake.noteRecorded(event));
    return runner;
  }

  /**
   * A runner restored from the session's log as the store has it now, and the log.
   *
   * @throws EngineError `SESSION_NOT_FOUND`, `CORRUPTED_LOG`
   */
  static async load(env: RunnerEnvironment, id: string): Promise<{ runner: SessionRunner; log: SessionLogEvent[] }> {
    let read: SessionLog;
    try {
      read = sessionLogOf(await env.store.readStream(id));
    } catch (error) {
      throw asCorruptedLog(error, id);
    }
    return { runner: SessionRunner.restore(env, id, read), log: read.log };
  }

  // ---- the handle ---------------------------------------------------------------------------

  /**
   * Queues a prompt under `promptId`, at most once: resolves `recorded` once it is in the log,
   * `moved` when the session moved to another owner first (see {@link PromptIntake}).
   *
   * @throws EngineError `SESSION_ENDED`, `QUEUE_FULL`, `PROMPT_TOO_LARGE`, `STORE_UNAVAILABLE`
   */
  submitPrompt(promptId: string, text: string): Promise<"recorded" | "moved"> {
    this.promptIntake ??= new PromptIntake(this.env, {
      id: this.id,
      context: () => this.actor.getSnapshot().context,
      assertActive: () => this.assertActive(),
      writeFailure: () => (this.recorder.failed ? { cause: this.recorder.failure } : undefined),
      commit: (events) => this.commit(events),
      stateName: () => this.state,
    });
    return this.promptIntake.submit(promptId, text);
  }

  async abortTurn(): Promise<void> {
    this.assertActive();
    if (this.state !== "streaming") return;
    await this.commit([{ type: "turn.abort-requested", at: this.env.clock.now() }]);
  }

  async close(reason?: string): Promise<SessionOutcome> {
    await this.requestClose(reason);
    return this.outcome;
  }

  /** Waits until every recorded event is in the store. */
  settled(): Promise<void> {
    return this.recorder.settled();
  }

  // ---- what the engine does with a runner ----------------------------------------------------

  /** The stream version written so far. */
  get appliedVersion(): number {
    return this.recorder.version;
  }

  /** Cluster mode: the lease this runner acts under (set once, before it acts). */
  actUnder(lease: Fence): void {
    this.lease.actUnder(lease);
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

  /** Ends a restored session without attaching it to the runtime: true once the end is in the log. */
  async endUnattached(reason: string): Promise<boolean> {
    return (await this.requestClose(reason)) !== "failed";
  }

  /**
   * Continues a restored session: re-attaches to its SDK session (without `cloud`), settles what
   * happened while nobody was watching from the session's history, and resumes the queue.
   */
  async attach(): Promise<void> {
    if (!this.isActive()) {
      this.finalize();
      return;
    }
    if (this.sessionId !== null) await this.attachment.reattach();
    this.reconcile();
  }

  /**
   * The runtime connection was found lost: the session is out of contact (recorded, so its
   * deadlines that wait on the runtime pause) until it re-attaches to a new one and settles from
   * history. A report about a connection it has already left behind changes nothing.
   */
  async onConnectionLost(): Promise<void> {
    if (this.isStopped() || !this.isActive() || this.sessionId === null || this.attachment.inContact) return;
    await this.commit(() => contactLost(this.actor.getSnapshot(), this.env.clock.now()));
    await this.attachment.onClientReplaced();
  }

  /** Stops acting (engine shutdown) without ending the session: it stays recoverable from the log. */
  async detach(): Promise<void> {
    this.stopped = true;
    this.detached = true;
    this.clearTimers();
    this.slot.cancel();
    await this.recorder.settled();
    // A send already on the wire is seen through and its messageId recorded: whoever continues the
    // session (another instance, a restart) then finds the prompt dispatched. Released without
    // that, a new owner may read the history before the prompt lands in it and send it again.
    const sending = this.dispatcher.inFlightSend;
    if (sending !== undefined) await fulfilledWithin(sending, IN_FLIGHT_SEND_GRACE_MS);
    await this.recorder.settled();
    this.attachment.drop(false);
    this.slot.release();
  }

  /** Cluster mode: carries out a command from another instance (see {@link applyCommand}). */
  applyCommand(command: SessionCommand): Promise<boolean> {
    return applyCommand(
      {
        snapshot: () => this.snapshot(),
        now: () => this.env.clock.now(),
        commit: (events) => this.commit(events),
        requestClose: (reason) => this.requestClose(reason),
        isFinalized: () => this.done,
        isStopped: () => this.isStopped(),
      },
      command,
    );
  }

  // ---- recording and acting on the snapshot ---------------------------------------------------

  /**
   * Write-ahead: events go to the machine and then the log, and only once they are stored does the
   * runner act on the new snapshot. Serialised per session, so the log order is the machine's
   * order. A function decides in turn, after every earlier commit (e.g. "submit unless already in
   * the log").
   */
  commit(events: readonly SessionEvent[] | (() => readonly SessionEvent[]), first?: { readonly leading: SessionRequested; readonly metadata: JsonObject }): Promise<CommitOutcome> {
    return this.recorder.enqueue(async () => {
      // After a refused append the machine is ahead of the log: nothing more is written from it
      // (a later append could land and leave a gap); a new runner continues from the log.
      if (this.recorder.failed) return "failed";
      if (!this.isActive()) return "ended";
      const accepted: SessionEvent[] = [];
      for (const event of typeof events === "function" ? events() : events) {
        this.actor.send(event);
        accepted.push(event);
        if (!this.isActive()) break;
      }
      // A prompt these events make due (the agent started, a turn ended, a prompt arrived while
      // ready) records its dispatch intent in the same append: one write, not two, before the send.
      const due = accepted.length > 0 ? this.dispatcher.claim() : undefined;
      if (due !== undefined) {
        const intent: SessionEvent = { type: "prompt.dispatching", promptId: due.id, at: this.env.clock.now() };
        this.actor.send(intent);
        accepted.push(intent);
      }
      if (accepted.length === 0 && first === undefined) return "recorded";
      const sessionId = this.sessionId;
      try {
        await this.recorder.append({
          events: accepted,
          final: !this.isActive(),
          ...first,
          ...(sessionId !== null && accepted.some((event) => event.type === "reservation.succeeded") ? { sessionId } : {}),
        });
      } catch (error) {
        if (due !== undefined) this.dispatcher.unclaim();
        throw error;
      }
      const all: readonly SessionLogEvent[] = first ? [first.leading, ...accepted] : accepted;
      if (this.env.probe) for (const event of all) this.env.probe(`recorded:${event.type}`, this.id);
      // The prompt goes out before anyone hears of its intent: a slow subscriber to the session's
      // events must not hold up the send (the agent's start -> prompt latency is a target).
      if (due !== undefined) void this.dispatcher.sendDispatched(due.id, due.text);
      for (const event of all) {
        this.sdkIntake.noteRecorded(event);
        this.views.published(event);
      }
      this.reconcile();
      return "recorded";
    });
  }

  reconcile(): void {
    if (this.isStopped()) return;
    const snapshot = this.actor.getSnapshot();
    if (snapshot.status !== "active") {
      // The machine runs ahead of the log while an append is in flight: the session has ended only
      // once that append lands (the commit reconciles again then); a refused one stops the runner.
      if (!this.recorder.appending) this.finalize();
      return;
    }
    this.deadlines.arm(snapshot.context);
    if (this.attachment.attaching) return;
    if (wantsReservation(snapshot)) (this.reservation ??= new Reservation(this.env, this.request, this.sdkIntake, this)).reconcile(snapshot);
    this.dispatcher.reconcile(snapshot);
  }

  // ---- ports: what the runner's parts call back -----------------------------------------------

  /** The session ended (its final state is in the log). */
  get finalized(): boolean {
    return this.done;
  }

  // Read through a method: `stopped` changes across awaits, which narrowing cannot see.
  isStopped(): boolean {
    return this.stopped;
  }

  /**
   * False when a cluster lease may have lapsed by the local clock (e.g. the process was frozen): the
   * runner then stops, and a side effect the store cannot fence (create, send, abort) is left to
   * whoever owns the session next, which settles it from the log and the session's history.
   */
  mayAct(): boolean {
    if (this.lease.holds()) return true;
    this.stopped = true;
    this.clearTimers();
    this.lease.lost();
    return false;
  }

  appendFailed(error: unknown): void {
    // The machine is ahead of the log now: stop acting; the log is the truth for a recovery.
    this.stopped = true;
    this.clearTimers();
    // A refused fence is no failure: another instance owns the session now and carries on.
    if (!isStoreError(error, "LEASE_LOST") || this.env.ownership === undefined) this.env.onBackgroundError(error, this.id);
    // In a cluster the lease goes too (no longer renewed): whoever takes the session next, this
    // instance included, continues it from the log instead of it waiting for a stopped runner.
    this.lease.lost();
    if (this.env.ownership === undefined && !this.detached) this.env.onAppendFailed?.(this.id);
  }

  deadlineContext(): SessionContext | undefined {
    return this.isStopped() || !this.isActive() ? undefined : this.actor.getSnapshot().context;
  }

  deadlineDue(deadline: DeadlineName): void {
    this.deadlineJudge ??= new DeadlineJudge(this.env.clock, this.attachment, { context: () => this.actor.getSnapshot().context, commit: (events) => this.commit(events), reconcile: () => this.reconcile() });
    this.deadlineJudge.due(deadline);
  }

  record(event: SessionEvent): void {
    void this.commit([event]);
  }

  showLive(event: SessionEvent): void {
    this.views.shownLive(event);
  }

  turnStallTimeoutMs(): number {
    return this.actor.getSnapshot().context.settings.turnStallTimeoutMs;
  }

  useCreated(session: CopilotSession): void {
    this.attachment.use(session);
  }

  attached(): void {
    this.dispatcher.attached();
  }

  catchUpFromHistory(session: CopilotSession): Promise<void> {
    return this.attachment.catchUpFromHistory(session);
  }

  acquireSlot(): Promise<void> {
    return this.slot.acquire(() => !this.isStopped() && this.isActive());
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.env.clock.setTimeout(resolve, ms));
  }

  // ---- the end ------------------------------------------------------------------------------

  /** Records the close (and aborts a running turn); what became of the close's commit. */
  private async requestClose(reason: string | undefined): Promise<CommitOutcome> {
    if (!this.isActive()) return "ended";
    const wasStreaming = this.state === "streaming";
    const outcome = await this.commit([reason === undefined ? { type: "close.requested", at: this.env.clock.now() } : { type: "close.requested", reason, at: this.env.clock.now() }]);
    if (wasStreaming && !this.isStopped()) await this.attachment.current?.abort().catch(() => undefined);
    return outcome;
  }

  /** Stops every timer of the runner: its deadline and a pending re-attach. */
  private clearTimers(): void {
    this.deadlines.clear();
    this.attachment.clearRetry();
  }

  private finalize(): void {
    if (this.done) return;
    this.done = true;
    this.clearTimers();
    this.slot.cancel();
    this.attachment.drop(true);
    this.slot.release();
    this.end();
  }
}

/** How long a detaching runner waits for a send already on the wire; a runtime that never answers must not hold a shutdown. */
const IN_FLIGHT_SEND_GRACE_MS = 5_000;
