/**
 * Fakes at the edges of the runner's modules, for their unit tests: a clock the test moves, an SDK
 * client and session that do what each test scripts, a runtime connection, and a session log
 * backed by the real (pure) machine so every snapshot a module reads is one the machine made.
 * End-to-end tests through the real SDK client and the simulator live beside these
 * (`engine.e2e.test.ts`, `scenarios.e2e.test.ts`): these fakes are never the only proof.
 */
import { defaultEngineLimits } from "../../src/engineLimits.js";
import { AGENT_PRODUCER, createSessionActor, inputFromRequest, resolveSettings, type SessionActor, type SessionEvent, type SessionLogEvent, type SessionRequested, type SessionSnapshot } from "@cloudsession/machine";
import type { RawSessionEvent } from "@cloudsession/rx";
import { createInMemoryStore } from "@cloudsession/store";
import { approveAll, type CopilotClient, type CopilotSession, type ResumeSessionConfig, type SessionConfig, type SessionEvent as SdkSessionEvent } from "@github/copilot-sdk";
import type { Clock } from "../../src/clock.js";
import type { RunnerEnvironment, RunnerOwnership, SessionCommand } from "../../src/runnerEnvironment.js";
import type { RuntimeConnectionManager } from "../../src/runtimeConnection.js";
import { Slots } from "../../src/slots.js";

/** Where every fake clock starts: far from 0, so a deadline at 0 would stand out. */
export const T0 = 1_000_000;

/**
 * A clock that moves only when the test says. Timers fire in due order as `advance` passes them;
 * `fireEarly` fires one before its time, as Node does with a delay longer than it can honour.
 */
export class ManualClock implements Clock {
  private current: number;
  private nextHandle = 1;
  private readonly timers = new Map<number, { readonly at: number; readonly delay: number; readonly callback: () => void }>();
  /** Every delay ever asked for, in order. */
  readonly delays: number[] = [];
  cleared = 0;

  constructor(start = T0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, delayMs: number): unknown {
    const handle = this.nextHandle++;
    this.timers.set(handle, { at: this.current + delayMs, delay: delayMs, callback });
    this.delays.push(delayMs);
    return handle;
  }

  clearTimeout(handle: unknown): void {
    if (this.timers.delete(handle as number)) this.cleared++;
  }

  /** The timers waiting, earliest first: their handle, when they are due and the delay they were set with. */
  get pending(): readonly { readonly handle: number; readonly at: number; readonly delay: number }[] {
    return [...this.timers.entries()].map(([handle, { at, delay }]) => ({ handle, at, delay })).sort((a, b) => a.at - b.at);
  }

  /** Moves the time on by `ms`, firing each timer due by then at its own time, earliest first. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const next = this.pending[0];
      if (next === undefined || next.at > target) break;
      this.current = Math.max(this.current, next.at);
      this.fire(next.handle);
    }
    this.current = target;
  }

  /** Fires timer `handle` now, whatever time it was set for. */
  fireEarly(handle: number): void {
    this.fire(handle);
  }

  private fire(handle: number): void {
    const timer = this.timers.get(handle);
    if (timer === undefined) throw new Error(`no timer ${handle}`);
    this.timers.delete(handle);
    timer.callback();
  }
}

/** A promise the test settles. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

/** Lets every promise callback already queued run (and those they queue, a few rounds deep). */
export async function flush(): Promise<void> {
  for (let round = 0; round < 20; round++) await Promise.resolve();
}

/** An SDK session whose answers each test scripts; it counts what the module asked of it. */
export class FakeSdkSession {
  readonly sends: string[] = [];
  aborts = 0;
  disconnects = 0;
  getEventsCalls = 0;
  /** How `send` answers; by default with a messageId made from the prompt. */
  onSend: (prompt: string) => Promise<string> = (prompt) => Promise.resolve(`msg-${prompt}`);
  /** How each `getEvents` answers, in turn; the last answer repeats. */
  histories: (readonly RawSessionEvent[] | Error)[] = [[]];
  /** Called by `send`, `abort` and `getEvents` as they happen, for tests that check an order. */
  trace: (step: string) => void = () => undefined;

  constructor(readonly sessionId: string) {}

  send(options: { prompt: string }): Promise<string> {
    this.sends.push(options.prompt);
    this.trace(`send:${options.prompt}`);
    return this.onSend(options.prompt);
  }

  abort(): Promise<void> {
    this.aborts++;
    this.trace("abort");
    return Promise.resolve();
  }

  getEvents(): Promise<RawSessionEvent[]> {
    const answer = this.histories[Math.min(this.getEventsCalls, this.histories.length - 1)];
    this.getEventsCalls++;
    this.trace("getEvents");
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve([...(answer ?? [])]);
  }

  disconnect(): Promise<void> {
    this.disconnects++;
    return Promise.resolve();
  }

  /** What the module holds: the SDK's own type, which this fake stands in for. */
  get asSdk(): CopilotSession {
    return this as unknown as CopilotSession;
  }
}

/** An SDK client whose `createSession` and `resumeSession` each test scripts; it records their configs. */
export class FakeClient {
  readonly creates: SessionConfig[] = [];
  readonly resumes: { readonly sessionId: string; readonly config: ResumeSessionConfig }[] = [];
  onCreate: (config: SessionConfig) => Promise<FakeSdkSession> = () => Promise.resolve(new FakeSdkSession(`sdk-${this.creates.length}`));
  onResume: (sessionId: string, config: ResumeSessionConfig) => Promise<FakeSdkSession> = (sessionId) => Promise.resolve(new FakeSdkSession(sessionId));

  async createSession(config: SessionConfig): Promise<CopilotSession> {
    this.creates.push(config);
    return (await this.onCreate(config)).asSdk;
  }

  async resumeSession(sessionId: string, config: ResumeSessionConfig): Promise<CopilotSession> {
    this.resumes.push({ sessionId, config });
    return (await this.onResume(sessionId, config)).asSdk;
  }
}

/** Delivers a raw event to an SDK config's `onEvent`, as the SDK client does. */
export function deliver(config: SessionConfig | ResumeSessionConfig, event: RawSessionEvent): void {
  config.onEvent?.(event as unknown as SdkSessionEvent);
}

/**
 * The runtime connection as a runner sees it: one client, a generation that moves when a replaced
 * client is next asked for (as the real manager connects anew), and activity noted.
 */
export class FakeRuntime {
  canReconnect = true;
  clientGeneration = 1;
  replaces = 0;
  readonly activity: number[] = [];
  /** How `replace` answers (a test may hold it to see concurrent reports). */
  onReplace: () => Promise<void> = () => Promise.resolve();
  /** How `client()` answers; by default with `fakeClient`. */
  onClient: () => Promise<FakeClient> = () => Promise.resolve(this.fakeClient);
  private replaced = false;
  private readonly lostListeners = new Set<() => void>();

  constructor(readonly fakeClient = new FakeClient()) {}

  async client(): Promise<CopilotClient> {
    const client = await this.onClient();
    if (this.replaced) {
      this.replaced = false;
      this.clientGeneration++;
    }
    return client as unknown as CopilotClient;
  }

  /** As the real manager: one replacement per lost client, then its listeners hear of the loss. */
  async replace(): Promise<void> {
    if (this.replaced) return;
    this.replaces++;
    this.replaced = true;
    await this.onReplace();
    for (const listener of this.lostListeners) listener();
  }

  onLost(listener: () => void): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  noteActivity(at: number): void {
    this.activity.push(at);
  }

  /** Attached under `generation` to the live client: not since replaced. */
  isCurrent(generation: number): boolean {
    return !this.replaced && generation === this.clientGeneration;
  }
}

/** Cluster ownership whose answers each test sets; it records what it was asked. */
export class FakeOwnership implements RunnerOwnership {
  acting = true;
  inDoubtGraceMs = 0;
  readonly mayActAsked: { readonly sessionKey: string; readonly token: number }[] = [];
  readonly lostCalls: { readonly sessionKey: string; readonly token: number | undefined }[] = [];
  readonly forwarded: SessionCommand[] = [];

  mayAct(sessionKey: string, token: number): boolean {
    this.mayActAsked.push({ sessionKey, token });
    return this.acting;
  }

  lost(sessionKey: string, token: number | undefined): void {
    this.lostCalls.push({ sessionKey, token });
  }

  forward(_sessionKey: string, command: SessionCommand): Promise<void> {
    this.forwarded.push(command);
    return Promise.resolve();
  }
}

export interface FakeEnvironment extends RunnerEnvironment {
  readonly clock: ManualClock;
  readonly fakeRuntime: FakeRuntime;
  /** What went to `onBackgroundError`, in order. */
  readonly backgroundErrors: unknown[];
  /** Probe points reached, in order. */
  readonly probed: string[];
}

/** A runner environment of fakes: in-memory store, manual clock, fixed jitter and ids. */
export function fakeEnvironment(overrides: { persistDeltas?: boolean; random?: number; ownership?: RunnerOwnership; clock?: ManualClock; runtime?: FakeRuntime } = {}): FakeEnvironment {
  const clock = overrides.clock ?? new ManualClock();
  const fakeRuntime = overrides.runtime ?? new FakeRuntime();
  const backgroundErrors: unknown[] = [];
  const probed: string[] = [];
  let ids = 0;
  return {
    store: createInMemoryStore(),
    clock,
    random: () => overrides.random ?? 0.25,
    limits: defaultEngineLimits,
    newPromptId: () => `p${++ids}`,
    runtime: fakeRuntime as unknown as RuntimeConnectionManager,
    fakeRuntime,
    slots: new Slots(64),
    persistDeltas: overrides.persistDeltas ?? false,
    onPermissionRequest: approveAll,
    onBackgroundError: (error) => backgroundErrors.push(error),
    probe: (point) => probed.push(point),
    backgroundErrors,
    probed,
    ...(overrides.ownership === undefined ? {} : { ownership: overrides.ownership }),
  };
}

export const repository = { owner: "octo", name: "demo" } as const;

/** A cloud session's first event, with the default limits unless given. */
export function requestAt(at: number, settings = resolveSettings(), extra: Partial<SessionRequested> = {}): SessionRequested {
  return { type: "session.requested", repository, settings, at, ...extra };
}

/**
 * A session's log as the runner would keep it, without a store: `commit` feeds the real machine
 * and appends to `events`. The module under test reads `snapshot()` and commits through this.
 */
export class MachineLog {
  readonly events: SessionLogEvent[];
  private readonly actor: SessionActor;
  /** Called with each commit's event types as it happens, for tests that check an order. */
  trace: (step: string) => void = () => undefined;
  /** How a commit resolves once its events are in (a test may hold it, or fail it). */
  onCommit: (events: readonly SessionEvent[]) => Promise<void> = () => Promise.resolve();

  constructor(readonly request: SessionRequested) {
    this.events = [request];
    this.actor = createSessionActor(inputFromRequest(request));
  }

  snapshot(): SessionSnapshot {
    return this.actor.getSnapshot();
  }

  /** Puts `events` straight into the log (the test's set-up, not the module's doing). */
  given(...events: SessionEvent[]): this {
    for (const event of events) this.apply(event);
    return this;
  }

  async commit(given: readonly SessionEvent[] | (() => readonly SessionEvent[])): Promise<void> {
    const events = typeof given === "function" ? given() : given;
    // A commit that decides on nothing writes nothing (as the runner's), and is not traced.
    if (typeof given === "function" && events.length === 0) return;
    this.trace(`commit:${events.map((event) => event.type).join(",")}`);
    for (const event of events) this.apply(event);
    await this.onCommit(events);
  }

  /** The events the module committed (or the test gave) of one type. */
  ofType<T extends SessionLogEvent["type"]>(type: T): Extract<SessionLogEvent, { type: T }>[] {
    return this.events.filter((event): event is Extract<SessionLogEvent, { type: T }> => event.type === type);
  }

  private apply(event: SessionEvent): void {
    this.events.push(event);
    this.actor.send(event);
  }
}

/** The SDK events that make a reserved session ready: the worker's start and its Mission Control URL. */
export const agentStart: RawSessionEvent = { type: "session.start", data: { producer: AGENT_PRODUCER } };
export const remoteInfo: RawSessionEvent = { type: "session.info", data: { infoType: "remote", url: "https://github.com/octo/demo/tasks/1" } };

/** Machine events that take a new session to `ready` with its task reserved as `sessionId`. */
export function readyEvents(at: number, sessionId = "sdk-1"): SessionEvent[] {
  return [
    { type: "reservation.succeeded", sessionId, at },
    { type: "agent.started", producer: AGENT_PRODUCER, at },
    { type: "remote-url.published", url: "https://github.com/octo/demo/tasks/1", at },
  ];
}
