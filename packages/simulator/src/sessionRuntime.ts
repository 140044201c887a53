import { EventLog, type SessionEvent } from "./events.js";
import type { Rng } from "./rng.js";
import { replyFor, type Behaviour, type Range, type TurnFault } from "./scenario.js";
import type { ScheduledTask, Scheduler } from "./scheduler.js";
import type { SessionStatsRecord, StatsRecord } from "./stats.js";
import { noiseFor, type NoiseContext, type NoiseStage } from "./untidyNoise.js";
import { UntidyOutbox } from "./untidyOutbox.js";

/** A client connection as a session sees it: somewhere to send notifications. */
export interface Attachment {
  readonly id: number;
  notify(method: string, params: unknown): void;
  /** False once the socket is closed (its `close` may not have been handled yet). */
  readonly open: boolean;
  /** Closes the underlying socket (fault injection). */
  drop(): void;
}

/** Everything a session needs from the runtime around it. */
export interface SessionDeps {
  readonly id: string;
  readonly cloud: boolean;
  readonly repository: string | undefined;
  readonly branch: string | undefined;
  readonly behaviour: Behaviour;
  readonly rng: Rng;
  readonly scheduler: Scheduler;
  readonly now: () => number;
  readonly stats: SessionStatsRecord;
  readonly globalStats: StatsRecord;
  readonly streaming: boolean;
  readonly requestPermission: boolean;
  readonly copilotVersion: string;
  /** Restarts the whole runtime (for the `restart` turn fault). */
  readonly restartRuntime: () => void;
  /** Sends a `session.lifecycle` notification of `type` about this session to every client. */
  readonly lifecycle: (type: string) => void;
  /** A stream of its own for the untidy behaviour, so turning it on leaves the main stream's draws alone. */
  readonly disorderRng: Rng;
}

interface QueuedPrompt {
  readonly prompt: string;
  readonly messageId: string;
}

interface Turn {
  readonly index: number;
  cancelled: boolean;
  /** `assistant.turn_start` went out, so an abort must close the turn with `assistant.turn_end`. */
  started: boolean;
  interactionId: string;
  cancelPermission: (() => void) | undefined;
}

/** Permission decisions the client sends, mapped to the result kinds `permission.completed` reports. */
const COMPLETED_KIND: Readonly<Record<string, string>> = {
  "approve-once": "approved",
  "approve-for-session": "approved-for-session",
  "approve-for-location": "approved-for-location",
  "approve-permanently": "approved",
  reject: "denied-interactively-by-user",
  "user-not-available": "denied-no-approval-rule-and-could-not-request-from-user",
};

const MODEL = "claude-sonnet-4.5";
const SYSTEM_PROMPT = "You are GitHub Copilot, simulated by @cloudsession/simulator.";
const TURN_ID = "0"; // The real runtime counts model calls within one interaction; one call per prompt here.

/**
 * One session as the runtime and its (remote) worker see it: the event log, the agent's two-phase
 * start, the prompt queue and the turn that is running. Timers go through the shared scheduler.
 */
export class SessionRuntime {
  readonly id: string;
  readonly cloud: boolean;
  readonly repository: string | undefined;
  readonly log: EventLog;
  readonly startTime: number;
  readonly attached = new Set<Attachment>();
  streaming: boolean;
  requestPermission: boolean;
  modifiedTime: number;
  summary: string | undefined;
  #agentStarted = false;
  #agentTask: ScheduledTask | undefined;
  #deleted = false;
  readonly #deps: SessionDeps;
  readonly #queue: QueuedPrompt[] = [];
  #current: Turn | undefined;
  #turnCount = 0;
  readonly #pendingPermissions = new Map<string, (kind: string) => void>();
  #held: SessionEvent | undefined;
  /** Local sessions: the one `system.message` the stored log keeps (the session's first; later ones live in memory only). */
  #storedSystemMessageId: string | undefined;
  /** Set when the behaviour is untidy: every delivery goes through it. */
  readonly #outbox: UntidyOutbox | undefined;

  constructor(deps: SessionDeps) {
    this.#deps = deps;
    this.id = deps.id;
    this.cloud = deps.cloud;
    this.repository = deps.repository;
    this.streaming = deps.streaming;
    this.requestPermission = deps.requestPermission;
    this.startTime = deps.now();
    this.modifiedTime = this.startTime;
    this.log = new EventLog(() => deps.rng.uuid(), deps.now);
    const untidy = deps.behaviour.untidy;
    if (untidy !== null) {
      const sink = { deliver: (event: SessionEvent) => this.#deliver(event), drop: () => this.dropAttached() };
      this.#outbox = new UntidyOutbox(untidy, deps.disorderRng, sink, deps.globalStats.untidy);
    }
  }

  /**
   * Announces the new session (`session.created`). With the real runtime's noise, a
   * `session.updated` comes first or second, at random (docs/real-runtime.md, fact 6).
   */
  announceCreated(): void {
    if (this.#deps.behaviour.untidy?.realNoise !== true) {
      this.#deps.lifecycle("session.created");
      return;
    }
    const updatedFirst = this.#deps.disorderRng.next() < 0.5;
    if (updatedFirst) this.#updated();
    this.#deps.lifecycle("session.created");
    if (!updatedFirst) this.#updated();
  }

  #updated(): void {
    this.#deps.globalStats.untidy.lifecycleUpdates++;
    this.#deps.lifecycle("session.updated");
  }

  get agentStarted(): boolean {
    return this.#agentStarted;
  }

  /** True while a turn runs (or stalls). */
  get busy(): boolean {
    return this.#current !== undefined;
  }

  attach(connection: Attachment): void {
    this.attached.add(connection);
  }

  detach(connection: Attachment): void {
    this.attached.delete(connection);
  }

  /**
   * A `session.detach` (the SDK's `disconnect()`). When the last client of a local session leaves,
   * the real runtime writes `session.shutdown` (persisted; whether the leaving client still receives
   * it is a race there, so here it never does) and unloads the session, so a later resume sees the
   * stored log (fixtures `local-stored-log.json`, `local-resume.json`). Cloud sessions keep running
   * in the cloud: nothing is written for them.
   */
  release(connection: Attachment): void {
    const last = this.attached.size === 1 && this.attached.has(connection);
    this.detach(connection);
    if (this.cloud || !last || this.#deleted) return;
    this.emit("session.shutdown", {
      shutdownType: "routine",
      totalPremiumRequests: this.#turnCount,
      totalNanoAiu: 0,
      totalApiDurationMs: 0,
      sessionStartTime: this.startTime,
      eventsFileSizeBytes: JSON.stringify(this.log.persisted).length,
      codeChanges: { linesAdded: 0, linesRemoved: 0, filesModified: [] },
      modelMetrics: {},
      agentMetrics: {},
      currentModel: MODEL,
      currentTokens: 0,
      systemTokens: 0,
      conversationTokens: 0,
      toolDefinitionsTokens: 0,
    });
    this.log.reloadFromStore((event) => event.id === this.#storedSystemMessageId);
  }

  /** Schedules the worker's connection; cancelled by {@link delete}. */
  scheduleAgent(simulatedMs: number): void {
    this.#agentTask = this.#deps.scheduler.schedule(simulatedMs, () => {
      this.startAgent();
    });
  }

  /** The worker connected: `session.start` (producer copilot-agent) and, for cloud, the one remote URL. */
  startAgent(): void {
    if (this.#agentStarted || this.#deleted) return;
    this.#agentStarted = true;
    this.#deps.stats.agentStarted = true;
    const context: Record<string, unknown> = { cwd: "/workspace" };
    if (this.repository !== undefined) {
      Object.assign(context, { repository: this.repository, hostType: "github", repositoryHost: "github.com" });
      if (this.#deps.branch !== undefined) context["branch"] = this.#deps.branch;
    }
    this.emit("session.start", {
      sessionId: this.id,
      version: 1,
      producer: "copilot-agent",
      copilotVersion: this.#deps.copilotVersion,
      startTime: new Date(this.startTime).toISOString(),
      context,
      ...(this.cloud ? {} : { contextTier: null }),
      remoteSteerable: this.cloud,
      alreadyInUse: false,
    });
    if (this.cloud) {
      const url = `https://github.com/copilot/tasks/${this.id}`;
      this.emit("session.info", { infoType: "remote", message: `Session is available at ${url}`, url });
    }
  }

  /**
   * A `session.send`. Before the worker connected the prompt is dropped and a fresh messageId is
   * still returned, because that is what the real runtime does (the case the engine must survive).
   */
  send(prompt: string): string {
    const messageId = this.#deps.rng.uuid();
    const record = { sessionId: this.id, prompt, messageId };
    this.#deps.stats.sendsReceived++;
    this.#deps.globalStats.sendsReceived++;
    if (!this.#agentStarted) {
      this.#deps.stats.promptsDropped.push(prompt);
      this.#deps.globalStats.dropped.push(record);
      return messageId;
    }
    this.#deps.stats.promptsReceived.push(prompt);
    this.#deps.globalStats.received.push(record);
    this.#queue.push({ prompt, messageId });
    this.#pump();
    return messageId;
  }

  /** A `session.abort`: ends the running (or stalled) turn; queued prompts stay queued. */
  abort(): void {
    this.#deps.stats.aborts++;
    this.#deps.globalStats.aborts++;
    const turn = this.#current;
    if (turn === undefined) return;
    turn.cancelled = true;
    turn.cancelPermission?.();
    const untidy = this.#deps.behaviour.untidy;
    // Fact 13: now and then the runtime writes turn_end first; history keeps the order it wrote.
    const swap = turn.started && untidy !== null && this.#deps.disorderRng.next() < untidy.abortSwapRate;
    if (swap) {
      this.#deps.globalStats.untidy.abortsSwapped++;
      this.emit("assistant.turn_end", { turnId: TURN_ID });
    }
    this.emit("abort", { reason: "user_initiated" });
    const noise = { turn: turn.index, interactionId: turn.interactionId, text: "", streamedBytes: 0 };
    if (turn.started) this.#noise("abort.afterAbort", noise);
    if (turn.started && !swap) this.emit("assistant.turn_end", { turnId: TURN_ID });
    if (this.#deps.behaviour.noise) this.emit("assistant.idle", { aborted: true });
    if (turn.started) this.#noise("abort.afterAssistantIdle", noise);
    this.emit("session.idle", { aborted: true, mode: "interactive" });
    this.#endTurn(turn);
  }

  /** A `session.resume` from `connection`: attach it and announce the resume (never the remote URL again). */
  resume(connection: Attachment, options: { readonly streaming: boolean; readonly requestPermission: boolean }): void {
    const alreadyInUse = this.attached.size > 0 && !this.attached.has(connection);
    this.attach(connection);
    this.streaming = options.streaming;
    this.requestPermission = options.requestPermission;
    const sessionWasActive = this.busy;
    // After the response: a `session.on` registered right after `await resumeSession()` should see it.
    this.#deps.scheduler.schedule(0, () => {
      if (this.#deleted) return;
      this.emit("session.resume", {
        resumeTime: new Date(this.#deps.now()).toISOString(),
        eventCount: this.log.persisted.length,
        // Local sessions, as recorded from the real runtime (fixture `local-resume.json`).
        ...(this.cloud ? {} : { contextTier: null, sessionLimits: null, eventsFileSizeBytes: JSON.stringify(this.log.persisted).length }),
        context: { cwd: "/workspace", ...(this.repository === undefined ? {} : { repository: this.repository }) },
        remoteSteerable: this.cloud,
        alreadyInUse,
        sessionWasActive,
      });
      this.#noise("resume", { turn: this.#turnCount, interactionId: "", text: "", streamedBytes: 0 });
    });
  }

  /** The client's answer to a `permission.requested`; false when the request is not pending. */
  answerPermission(requestId: string, kind: string): boolean {
    const resolve = this.#pendingPermissions.get(requestId);
    if (resolve === undefined) return false;
    this.#pendingPermissions.delete(requestId);
    this.#deps.stats.permissionDecisions.push(kind);
    this.emit("permission.completed", { requestId, result: { kind: COMPLETED_KIND[kind] ?? "denied-interactively-by-user" } });
    resolve(kind);
    return true;
  }

  /** `session.delete`: stops the agent and any turn; nothing more is emitted. */
  delete(): void {
    this.#deleted = true;
    this.#agentTask?.cancel();
    if (this.#current !== undefined) this.#current.cancelled = true;
    this.#current = undefined;
    this.#queue.length = 0;
    this.attached.clear();
  }

  /** Drops every connection attached to this session (fault injection); returns how many were open. */
  dropAttached(): number {
    let open = 0;
    for (const connection of [...this.attached]) {
      if (!connection.open) continue;
      open++;
      connection.drop();
    }
    return open;
  }

  /** Appends to the log and delivers to every attached connection. */
  emit(type: string, data: Readonly<Record<string, unknown>>): SessionEvent {
    const event = this.log.append(type, data);
    if (event.ephemeral !== true) {
      this.modifiedTime = this.#deps.now();
      if (this.#deps.behaviour.untidy?.realNoise === true) this.#updated();
    }
    this.#deps.stats.eventsEmitted++;
    if (this.#outbox === undefined) this.#deliver(event);
    else this.#outbox.push(event);
    return event;
  }

  /** The real runtime's extra ephemeral events at `stage`, when the behaviour asks for them. */
  #noise(stage: NoiseStage, context: Omit<NoiseContext, "rng" | "apiCallId">): void {
    if (this.#deps.behaviour.untidy?.realNoise !== true) return;
    const rng = this.#deps.disorderRng;
    for (const [type, data] of noiseFor(stage, { ...context, rng, apiCallId: `chatcmpl-sim-${this.id.slice(0, 8)}-${context.turn}` })) {
      this.emit(type, data);
    }
  }

  #deliver(event: SessionEvent): void {
    const { duplicateRate, reorderRate } = this.#deps.behaviour;
    // Draw only when a rate is set, so fault-free scenarios consume no randomness here.
    if (reorderRate > 0 && this.#held === undefined && this.#deps.rng.next() < reorderRate) {
      // Held until the next event of the same synchronous burst, or the end of it.
      this.#held = event;
      queueMicrotask(() => {
        this.#flushHeld();
      });
      return;
    }
    this.#broadcast(event);
    if (duplicateRate > 0 && this.#deps.rng.next() < duplicateRate) this.#broadcast(event);
    this.#flushHeld();
  }

  #flushHeld(): void {
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined) this.#broadcast(held);
  }

  #broadcast(event: SessionEvent): void {
    for (const connection of this.attached) connection.notify("session.event", { sessionId: this.id, event });
  }

  #draw(range: Range): number {
    return this.#deps.rng.between(range[0], range[1]);
  }

  #pump(): void {
    if (this.#current !== undefined || this.#deleted) return;
    const next = this.#queue.shift();
    if (next === undefined) return;
    this.#turnCount++;
    const turn: Turn = { index: this.#turnCount, cancelled: false, started: false, interactionId: "", cancelPermission: undefined };
    this.#current = turn;
    void this.#runTurn(turn, next);
  }

  #endTurn(turn: Turn): void {
    if (this.#current !== turn) return;
    this.#current = undefined;
    this.#pump();
  }

  async #runTurn(turn: Turn, item: QueuedPrompt): Promise<void> {
    const { behaviour: b, rng, scheduler } = this.#deps;
    // Let the send response go out before the turn's first event.
    await scheduler.sleep(0);
    if (isCancelled(turn)) return;
    const interactionId = rng.uuid();
    turn.interactionId = interactionId;
    const noise = { turn: turn.index, interactionId, text: "", streamedBytes: 0 };
    if (b.noise) this.emit("pending_messages.modified", {});
    if (b.noise && turn.index === 1) {
      this.summary = item.prompt.slice(0, 60);
      this.emit("session.title_changed", { title: this.summary });
    }
    this.#noise("turn.prelude", noise);
    this.emit("user.message", {
      content: item.prompt,
      messageId: item.messageId,
      interactionId,
      turnId: TURN_ID,
      delivery: "idle",
      ...(this.cloud ? {} : this.#localUserMessageData(item.prompt)),
    });
    if (!this.cloud) {
      // Local sessions, as recorded (fixture `local-turn.json`): the system prompt is sent and logged every turn.
      const system = this.emit("system.message", { role: "system", content: SYSTEM_PROMPT, interactionId });
      this.#storedSystemMessageId ??= system.id;
    }
    this.#noise("turn.beforeTurnStart", noise);
    this.emit("assistant.turn_start", { turnId: TURN_ID, interactionId });
    turn.started = true;
    if (b.noise) this.emit("session.usage_info", { tokenLimit: 200_000, currentTokens: 1_000 * turn.index, messagesLength: turn.index * 2 });
    this.#noise("turn.afterTurnStart", noise);

    let decision: string | undefined;
    if (this.requestPermission && b.permissionPattern !== null && b.permissionPattern.test(item.prompt)) {
      decision = await this.#askPermission(turn);
      if (isCancelled(turn)) return;
    }

    await scheduler.sleep(this.#draw(b.thinkLatencyMs));
    if (isCancelled(turn)) return;
    let text = replyFor(b.reply, item.prompt, { sessionId: this.id, repository: this.repository, turn: turn.index });
    if (decision !== undefined) {
      text = COMPLETED_KIND[decision]?.startsWith("approved") === true ? `(permission granted) ${text}` : "Permission was denied, so I did not run the command.";
    }
    const chunks = this.#chunk(text);
    const fault = activeFault(b.turnFault, turn.index);
    const messageId = rng.uuid();
    let streamedBytes = 0;
    if (this.streaming) this.#noise("turn.beforeDelta", { ...noise, streamedBytes });
    if (this.streaming && b.noise) this.emit("assistant.message_start", { messageId });
    for (let i = 0; i <= chunks.length; i++) {
      if (fault !== undefined && i === Math.min(fault.afterChunks, chunks.length)) {
        if (this.#applyFault(fault, turn) === "ended") return;
      }
      const chunk = chunks[i];
      if (chunk === undefined) break;
      if (i > 0) {
        await scheduler.sleep(this.#draw(b.chunkLatencyMs));
        if (isCancelled(turn)) return;
      }
      if (this.streaming && i > 0) this.#noise("turn.beforeDelta", { ...noise, streamedBytes });
      if (this.streaming) this.emit("assistant.message_delta", { messageId, deltaContent: chunk });
      streamedBytes += Buffer.byteLength(chunk);
    }
    this.#noise("turn.beforeMessage", { ...noise, text });
    this.emit("assistant.message", {
      messageId,
      content: text,
      originatingMessageId: item.messageId,
      interactionId,
      turnId: TURN_ID,
      toolRequests: [],
      model: MODEL,
      ...(this.cloud ? {} : { rte: false, apiCallId: `chatcmpl-sim-${rng.uuid()}` }),
    });
    this.#noise("turn.afterMessage", { ...noise, text });
    this.emit("assistant.turn_end", { turnId: TURN_ID });
    this.#noise("turn.afterTurnEnd", { ...noise, text });
    if (b.noise) this.emit("assistant.idle", {});
    this.emit("session.idle", { mode: "interactive" });
    this.#deps.stats.turnsCompleted++;
    this.#endTurn(turn);
  }

  /** Applies a turn fault; "ended" means the turn is over (or stuck) and the caller must stop. */
  #applyFault(fault: Exclude<TurnFault, { kind: "none" }>, turn: Turn): "ended" | "continue" {
    switch (fault.kind) {
      case "error":
        this.emit("session.error", {
          errorType: "model_call",
          message: "Simulated model failure mid-turn (HTTP 500)",
          statusCode: 500,
        });
        this.emit("assistant.turn_end", { turnId: TURN_ID });
        this.emit("session.idle", { mode: "interactive" });
        this.#endTurn(turn);
        return "ended";
      case "stall":
        // The turn stays current, so queued prompts wait and only an abort moves the session on.
        return "ended";
      case "drop":
        this.dropAttached();
        return "continue";
      case "restart":
        this.#deps.restartRuntime();
        return "continue";
    }
  }

  #askPermission(turn: Turn): Promise<string> {
    const requestId = this.#deps.rng.uuid();
    this.#deps.stats.permissionRequests++;
    return new Promise<string>((resolve) => {
      this.#pendingPermissions.set(requestId, resolve);
      turn.cancelPermission = () => {
        this.#pendingPermissions.delete(requestId);
        resolve("cancelled");
      };
      this.emit("permission.requested", {
        requestId,
        permissionRequest: {
          kind: "shell",
          canOfferSessionApproval: false,
          commands: [{ identifier: "echo", readOnly: true }],
          fullCommandText: "echo simulated",
          hasWriteFileRedirection: false,
          intention: "Run a simulated command",
          possiblePaths: [],
          possibleUrls: [],
        },
      });
    });
  }

  /** Keys the real runtime adds to a local session's `user.message` (fixture `local-turn.json`). */
  #localUserMessageData(prompt: string): Record<string, unknown> {
    return {
      transformedContent: `<current_datetime>${new Date(this.#deps.now()).toISOString()}</current_datetime>\n\n${prompt}`,
      supportedNativeDocumentMimeTypes: [],
      parentAgentTaskId: this.#deps.rng.uuid(),
    };
  }

  #chunk(text: string): string[] {
    const [min, max] = this.#deps.behaviour.chunkSizeChars;
    const chunks: string[] = [];
    for (let at = 0; at < text.length; ) {
      const size = this.#deps.rng.int(Math.max(1, min), Math.max(1, max));
      chunks.push(text.slice(at, at + size));
      at += size;
    }
    return chunks;
  }
}

/**
 * Read through a call so that TypeScript does not keep a narrowing of `turn.cancelled` across an
 * `await`: an abort can flip it while the turn sleeps.
 */
function isCancelled(turn: Turn): boolean {
  return turn.cancelled;
}

/** The turn fault that applies to turn `index` (1-based), if any. */
function activeFault(fault: TurnFault, index: number): Exclude<TurnFault, { kind: "none" }> | undefined {
  if (fault.kind === "none") return undefined;
  return (fault.turn ?? 1) === index ? fault : undefined;
}
