import { approveAll, type CopilotClient, type SessionEvent } from "@github/copilot-sdk";
import { recordEvents } from "./sessionRecorder.js";

/** The prompts of the local-session script, in order. */
export const SCRIPT_PROMPTS = {
  first: "Say hello",
  second: "Say hello again",
  aborted: "Tell me a long story",
  afterResume: "Say hello after resume",
} as const;

export type TurnKind = "short" | "long";

/** What the script runs against: the real runtime (stub + stdio) or the simulator (forUri). */
export interface ScriptTarget {
  /** A started client. The script calls it twice: the second client resumes the session. */
  newClient(): Promise<CopilotClient>;
  /** Called before each prompt: the `long` one is streamed slowly enough to abort mid-stream. */
  prepareTurn(kind: TurnKind): void;
  /** Stops a client (time-boxed). */
  stopClient(client: CopilotClient): Promise<void>;
  /** The session's log as stored (the real runtime's `events.jsonl`), when the target has one. */
  readStoredLog?(sessionId: string): SessionEvent[] | undefined;
}

/** Event streams of one scripted local session, cut where the script acted. */
export interface LocalRun {
  readonly sessionId: string;
  /** `client.getStatus()` of the first client's runtime. */
  readonly runtimeStatus: { readonly version: string; readonly protocolVersion: number };
  /** `client.onLifecycle` types seen by the first client. */
  readonly lifecycle: readonly string[];
  /** What `send` resolved to for the first prompt, and the `user.message` it matched. */
  readonly firstMessageId: string;
  /** `sendAndWait` for the second prompt resolved with this event. */
  readonly sendAndWaitResult: SessionEvent | undefined;
  readonly segments: {
    /** From `createSession` until `session.start` (events delivered during the create). */
    readonly create: readonly SessionEvent[];
    readonly turn: readonly SessionEvent[];
    readonly secondTurn: readonly SessionEvent[];
    /** The long prompt, aborted after three deltas. */
    readonly abort: readonly SessionEvent[];
    /** The second client: `resumeSession` and one more turn, until its `session.idle`. */
    readonly resume: readonly SessionEvent[];
  };
  /**
   * What the first client saw after the abort's idle (through disconnect): the real runtime
   * sometimes delivers `session.shutdown` here, sometimes not, so it is kept apart.
   */
  readonly afterAbortIdle: readonly SessionEvent[];
  /** What the second client saw after its turn's idle (through `stop()`): the same race. */
  readonly afterResumeIdle: readonly SessionEvent[];
  /** `getEvents()` on the live session, after the abort. */
  readonly history: readonly SessionEvent[];
  /** The stored log after `disconnect()` and after `stop()` of the first client, when readable. */
  readonly storedAfterDisconnect: readonly SessionEvent[] | undefined;
  readonly storedAfterStop: readonly SessionEvent[] | undefined;
  /** The stored log after the second client stopped. */
  readonly storedAfterResume: readonly SessionEvent[] | undefined;
  /** `getEvents()` on the resumed session, after its turn. */
  readonly historyAfterResume: readonly SessionEvent[];
}

const isType = (type: string) => (event: SessionEvent): boolean => event.type === type;

/**
 * The local-session script both the real runtime and the simulator run: create, wait for
 * `session.start`, send and stream, `sendAndWait`, abort mid-stream, history, disconnect and stop,
 * resume from a second client, one more turn, history. Every wait is time-boxed.
 *
 * @example
 * const run = await runLocalScript(target);
 * run.segments.turn.map((e) => e.type);
 */
export async function runLocalScript(target: ScriptTarget, timeoutMs = 30_000): Promise<LocalRun> {
  const first = await target.newClient();
  const runtimeStatus = await first.getStatus();
  const lifecycle: string[] = [];
  first.onLifecycle((event) => lifecycle.push(event.type));
  const recorder = recordEvents();
  const session = await first.createSession({ streaming: true, onPermissionRequest: approveAll, onEvent: recorder.push });
  await recorder.waitFor(isType("session.start"), { timeoutMs });
  const marks: number[] = [recorder.events.length];
  // Cut right after the idle itself: more events may arrive before this continuation runs.
  const idleAfter = async (from: number): Promise<void> => {
    const idle = await recorder.waitFor(isType("session.idle"), { from, timeoutMs });
    marks.push(recorder.events.indexOf(idle) + 1);
  };

  target.prepareTurn("short");
  const firstMessageId = await session.send(SCRIPT_PROMPTS.first);
  await idleAfter(marks[0] ?? 0);

  target.prepareTurn("short");
  const sendAndWaitResult = await session.sendAndWait(SCRIPT_PROMPTS.second, timeoutMs);
  await idleAfter(marks[1] ?? 0);

  target.prepareTurn("long");
  await session.send(SCRIPT_PROMPTS.aborted);
  const abortFrom = marks[2] ?? 0;
  let deltas = 0;
  await recorder.waitFor((event) => event.type === "assistant.message_delta" && ++deltas >= 3, { from: abortFrom, timeoutMs });
  await session.abort();
  await idleAfter(abortFrom);

  const history = await session.getEvents();
  await session.disconnect();
  const storedAfterDisconnect = target.readStoredLog?.(session.sessionId);
  await target.stopClient(first);
  const storedAfterStop = target.readStoredLog?.(session.sessionId);

  const second = await target.newClient();
  const resumed = recordEvents();
  const again = await second.resumeSession(session.sessionId, { streaming: true, onPermissionRequest: approveAll, onEvent: resumed.push });
  await resumed.waitFor(isType("session.resume"), { timeoutMs });
  target.prepareTurn("short");
  await again.send(SCRIPT_PROMPTS.afterResume);
  const resumedIdle = await resumed.waitFor(isType("session.idle"), { timeoutMs });
  const resumeIdle = resumed.events.indexOf(resumedIdle) + 1;
  const historyAfterResume = await again.getEvents();
  await target.stopClient(second);
  const storedAfterResume = target.readStoredLog?.(session.sessionId);

  const cut = (from: number | undefined, to: number | undefined): SessionEvent[] => recorder.events.slice(from ?? 0, to);
  return {
    sessionId: session.sessionId,
    runtimeStatus: { version: runtimeStatus.version, protocolVersion: runtimeStatus.protocolVersion },
    lifecycle,
    firstMessageId,
    sendAndWaitResult,
    segments: {
      create: cut(0, marks[0]),
      turn: cut(marks[0], marks[1]),
      secondTurn: cut(marks[1], marks[2]),
      abort: cut(marks[2], marks[3]),
      resume: resumed.events.slice(0, resumeIdle),
    },
    afterResumeIdle: resumed.events.slice(resumeIdle),
    afterAbortIdle: recorder.events.slice(marks[3]),
    history,
    storedAfterDisconnect,
    storedAfterResume,
    storedAfterStop,
    historyAfterResume,
  };
}
