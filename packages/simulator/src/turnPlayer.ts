import type { SessionEvent } from "./events.js";
import type { PermissionGate } from "./permissionGate.js";
import { isApproval } from "./permissionGate.js";
import { localUserMessageData, MODEL, SYSTEM_PROMPT, TURN_ID } from "./recordedEventData.js";
import type { Rng } from "./rng.js";
import { replyFor, type Behaviour, type Range, type TurnFault } from "./scenario.js";
import type { Scheduler } from "./scheduler.js";
import type { SessionStatsRecord, StatsRecord } from "./stats.js";
import type { NoiseContext, NoiseStage } from "./untidyNoise.js";

/** What the player draws on from the runtime around the session. */
export interface TurnDeps {
  readonly behaviour: Behaviour;
  readonly rng: Rng;
  readonly disorderRng: Rng;
  readonly scheduler: Scheduler;
  readonly now: () => number;
  readonly stats: SessionStatsRecord;
  readonly globalStats: StatsRecord;
  /** Restarts the whole runtime (for the `restart` turn fault). */
  readonly restartRuntime: () => void;
}

/** The session a turn plays in; `streaming` and `requestPermission` are read live (a resume changes them). */
export interface TurnSession {
  readonly id: string;
  readonly cloud: boolean;
  readonly repository: string | undefined;
  readonly streaming: boolean;
  readonly requestPermission: boolean;
  emit(type: string, data: Readonly<Record<string, unknown>>): SessionEvent;
  dropAttached(): number;
}

/** Emits the real runtime's extra ephemeral events at a stage (nothing unless the behaviour asks). */
export type NoiseEmitter = (stage: NoiseStage, context: Omit<NoiseContext, "rng" | "apiCallId">) => void;

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

type ActiveFault = Exclude<TurnFault, { kind: "none" }>;

/**
 * A session's prompt queue and the turn that is running: plays each prompt as the real runtime's
 * event sequence (with the scenario's latencies, chunking and turn faults) and ends it on abort.
 * Timers go through the shared scheduler.
 */
export class TurnPlayer {
  /** The first prompt's opening, once the first turn ran (with the behaviour's noise). */
  summary: string | undefined;
  /** Local sessions: the one `system.message` the stored log keeps (the session's first; later ones live in memory only). */
  storedSystemMessageId: string | undefined;
  readonly #deps: TurnDeps;
  readonly #session: TurnSession;
  readonly #permissions: PermissionGate;
  readonly #noise: NoiseEmitter;
  readonly #queue: QueuedPrompt[] = [];
  #current: Turn | undefined;
  #count = 0;
  #stopped = false;

  constructor(deps: TurnDeps, session: TurnSession, permissions: PermissionGate, noise: NoiseEmitter) {
    this.#deps = deps;
    this.#session = session;
    this.#permissions = permissions;
    this.#noise = noise;
  }

  /** True while a turn runs (or stalls). */
  get busy(): boolean {
    return this.#current !== undefined;
  }

  /** Turns started so far. */
  get count(): number {
    return this.#count;
  }

  enqueue(prompt: string, messageId: string): void {
    this.#queue.push({ prompt, messageId });
    this.#pump();
  }

  /** Ends the running (or stalled) turn; queued prompts stay queued. */
  abort(): void {
    const turn = this.#current;
    if (turn === undefined) return;
    turn.cancelled = true;
    turn.cancelPermission?.();
    const { behaviour, disorderRng, globalStats } = this.#deps;
    const emit = this.#session.emit.bind(this.#session);
    const untidy = behaviour.untidy;
    // Fact 13: now and then the runtime writes turn_end first; history keeps the order it wrote.
    const swap = turn.started && untidy !== null && disorderRng.next() < untidy.abortSwapRate;
    if (swap) {
      globalStats.untidy.abortsSwapped++;
      emit("assistant.turn_end", { turnId: TURN_ID });
    }
    emit("abort", { reason: "user_initiated" });
    const noise = { turn: turn.index, interactionId: turn.interactionId, text: "", streamedBytes: 0 };
    if (turn.started) this.#noise("abort.afterAbort", noise);
    if (turn.started && !swap) emit("assistant.turn_end", { turnId: TURN_ID });
    if (behaviour.noise) emit("assistant.idle", { aborted: true });
    if (turn.started) this.#noise("abort.afterAssistantIdle", noise);
    emit("session.idle", { aborted: true, mode: "interactive" });
    this.#endTurn(turn);
  }

  /** The session is deleted: the running turn stops where it is and nothing queued will play. */
  stop(): void {
    this.#stopped = true;
    if (this.#current !== undefined) this.#current.cancelled = true;
    this.#current = undefined;
    this.#queue.length = 0;
  }

  #pump(): void {
    if (this.#current !== undefined || this.#stopped) return;
    const next = this.#queue.shift();
    if (next === undefined) return;
    this.#count++;
    const turn: Turn = { index: this.#count, cancelled: false, started: false, interactionId: "", cancelPermission: undefined };
    this.#current = turn;
    void this.#play(turn, next);
  }

  #endTurn(turn: Turn): void {
    if (this.#current !== turn) return;
    this.#current = undefined;
    this.#pump();
  }

  async #play(turn: Turn, item: QueuedPrompt): Promise<void> {
    const { behaviour: b, rng, scheduler } = this.#deps;
    const session = this.#session;
    const emit = session.emit.bind(session);
    // Let the send response go out before the turn's first event.
    await scheduler.sleep(0);
    if (isCancelled(turn)) return;
    const interactionId = rng.uuid();
    turn.interactionId = interactionId;
    const noise = { turn: turn.index, interactionId, text: "", streamedBytes: 0 };
    if (b.noise) emit("pending_messages.modified", {});
    if (b.noise && turn.index === 1) {
      this.summary = item.prompt.slice(0, 60);
      emit("session.title_changed", { title: this.summary });
    }
    this.#noise("turn.prelude", noise);
    emit("user.message", {
      content: item.prompt,
      messageId: item.messageId,
      interactionId,
      turnId: TURN_ID,
      delivery: "idle",
      ...(session.cloud ? {} : localUserMessageData(item.prompt, this.#deps.now(), rng.uuid())),
    });
    if (!session.cloud) {
      // Local sessions, as recorded (fixture `local-turn.json`): the system prompt is sent and logged every turn.
      const system = emit("system.message", { role: "system", content: SYSTEM_PROMPT, interactionId });
      this.storedSystemMessageId ??= system.id;
    }
    this.#noise("turn.beforeTurnStart", noise);
    emit("assistant.turn_start", { turnId: TURN_ID, interactionId });
    turn.started = true;
    if (b.noise) emit("session.usage_info", { tokenLimit: 200_000, currentTokens: 1_000 * turn.index, messagesLength: turn.index * 2 });
    this.#noise("turn.afterTurnStart", noise);

    let decision: string | undefined;
    if (session.requestPermission && b.permissionPattern !== null && b.permissionPattern.test(item.prompt)) {
      decision = await this.#permissions.ask(turn);
      if (isCancelled(turn)) return;
    }

    await scheduler.sleep(this.#draw(b.thinkLatencyMs));
    if (isCancelled(turn)) return;
    let text = replyFor(b.reply, item.prompt, { sessionId: session.id, repository: session.repository, turn: turn.index });
    if (decision !== undefined) {
      text = isApproval(decision) ? `(permission granted) ${text}` : "Permission was denied, so I did not run the command.";
    }
    const chunks = this.#chunk(text);
    const fault = activeFault(b.turnFault, turn.index);
    const messageId = rng.uuid();
    let streamedBytes = 0;
    if (session.streaming) this.#noise("turn.beforeDelta", { ...noise, streamedBytes });
    if (session.streaming && b.noise) emit("assistant.message_start", { messageId });
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
      if (session.streaming && i > 0) this.#noise("turn.beforeDelta", { ...noise, streamedBytes });
      if (session.streaming) emit("assistant.message_delta", { messageId, deltaContent: chunk });
      streamedBytes += Buffer.byteLength(chunk);
    }
    this.#noise("turn.beforeMessage", { ...noise, text });
    emit("assistant.message", {
      messageId,
      content: text,
      originatingMessageId: item.messageId,
      interactionId,
      turnId: TURN_ID,
      toolRequests: [],
      model: MODEL,
      ...(session.cloud ? {} : { rte: false, apiCallId: `chatcmpl-sim-${rng.uuid()}` }),
    });
    this.#noise("turn.afterMessage", { ...noise, text });
    emit("assistant.turn_end", { turnId: TURN_ID });
    this.#noise("turn.afterTurnEnd", { ...noise, text });
    if (b.noise) emit("assistant.idle", {});
    emit("session.idle", { mode: "interactive" });
    this.#deps.stats.turnsCompleted++;
    this.#endTurn(turn);
  }

  /** Applies a turn fault; "ended" means the turn is over (or stuck) and the caller must stop. */
  #applyFault(fault: ActiveFault, turn: Turn): "ended" | "continue" {
    switch (fault.kind) {
      case "error":
        this.#session.emit("session.error", {
          errorType: "model_call",
          message: "Simulated model failure mid-turn (HTTP 500)",
          statusCode: 500,
        });
        this.#session.emit("assistant.turn_end", { turnId: TURN_ID });
        this.#session.emit("session.idle", { mode: "interactive" });
        this.#endTurn(turn);
        return "ended";
      case "stall":
        // The turn stays current, so queued prompts wait and only an abort moves the session on.
        return "ended";
      case "drop":
        this.#session.dropAttached();
        return "continue";
      case "restart":
        this.#deps.restartRuntime();
        return "continue";
    }
  }

  #draw(range: Range): number {
    return this.#deps.rng.between(range[0], range[1]);
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
function activeFault(fault: TurnFault, index: number): ActiveFault | undefined {
  if (fault.kind === "none") return undefined;
  return (fault.turn ?? 1) === index ? fault : undefined;
}
