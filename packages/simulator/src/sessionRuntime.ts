import { EventLog, type SessionEvent } from "./events.js";
import { PermissionGate } from "./permissionGate.js";
import { sessionResumeData, sessionShutdownData, sessionStartData } from "./recordedEventData.js";
import type { Rng } from "./rng.js";
import type { Behaviour } from "./scenario.js";
import type { ScheduledTask, Scheduler } from "./scheduler.js";
import { SessionDelivery, type Attachment } from "./sessionDelivery.js";
import type { SessionStatsRecord, StatsRecord } from "./stats.js";
import { TurnPlayer } from "./turnPlayer.js";
import { noiseFor, type NoiseContext, type NoiseStage } from "./untidyNoise.js";

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

/**
 * One session as the runtime and its (remote) worker see it: the event log, the agent's two-phase
 * start, who is attached, and the lifecycle events. Turns are played by a {@link TurnPlayer},
 * permissions kept by a {@link PermissionGate}, live delivery done by a {@link SessionDelivery}.
 */
export class SessionRuntime {
  readonly id: string;
  readonly cloud: boolean;
  readonly repository: string | undefined;
  readonly log: EventLog;
  readonly startTime: number;
  readonly attached: Set<Attachment>;
  streaming: boolean;
  requestPermission: boolean;
  modifiedTime: number;
  #agentStarted = false;
  #agentTask: ScheduledTask | undefined;
  #deleted = false;
  readonly #deps: SessionDeps;
  readonly #delivery: SessionDelivery;
  readonly #permissions: PermissionGate;
  readonly #turns: TurnPlayer;

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
    this.#delivery = new SessionDelivery({
      sessionId: deps.id,
      behaviour: deps.behaviour,
      rng: deps.rng,
      disorderRng: deps.disorderRng,
      untidyStats: deps.globalStats.untidy,
    });
    this.attached = this.#delivery.attached;
    const emit = this.emit.bind(this);
    this.#permissions = new PermissionGate({ rng: deps.rng, stats: deps.stats, emit });
    this.#turns = new TurnPlayer(deps, this, this.#permissions, (stage, context) => {
      this.#noise(stage, context);
    });
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
    return this.#turns.busy;
  }

  /** The session's title, taken from its first prompt (with the behaviour's noise). */
  get summary(): string | undefined {
    return this.#turns.summary;
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
    this.emit("session.shutdown", sessionShutdownData(this, this.log.persisted, this.#turns.count));
    this.log.reloadFromStore((event) => event.id === this.#turns.storedSystemMessageId);
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
    this.emit("session.start", sessionStartData(this, this.#deps.branch, this.#deps.copilotVersion));
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
    this.#turns.enqueue(prompt, messageId);
    return messageId;
  }

  /** A `session.abort`: ends the running (or stalled) turn; queued prompts stay queued. */
  abort(): void {
    this.#deps.stats.aborts++;
    this.#deps.globalStats.aborts++;
    this.#turns.abort();
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
      this.emit("session.resume", sessionResumeData(this, this.log.persisted, { now: this.#deps.now(), alreadyInUse, sessionWasActive }));
      this.#noise("resume", { turn: this.#turns.count, interactionId: "", text: "", streamedBytes: 0 });
    });
  }

  /** The client's answer to a `permission.requested`; false when the request is not pending. */
  answerPermission(requestId: string, kind: string): boolean {
    return this.#permissions.answer(requestId, kind);
  }

  /** `session.delete`: stops the agent and any turn; nothing more is emitted. */
  delete(): void {
    this.#deleted = true;
    this.#agentTask?.cancel();
    this.#turns.stop();
    this.attached.clear();
  }

  /** Drops every connection attached to this session (fault injection); returns how many were open. */
  dropAttached(): number {
    return this.#delivery.dropAttached();
  }

  /** Appends to the log and delivers to every attached connection. */
  emit(type: string, data: Readonly<Record<string, unknown>>): SessionEvent {
    const event = this.log.append(type, data);
    if (event.ephemeral !== true) {
      this.modifiedTime = this.#deps.now();
      if (this.#deps.behaviour.untidy?.realNoise === true) this.#updated();
    }
    this.#deps.stats.eventsEmitted++;
    this.#delivery.push(event);
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
}
