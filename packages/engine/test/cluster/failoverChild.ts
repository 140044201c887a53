// One engine instance of the failover test, in its own process so the parent can SIGKILL or
// SIGSTOP it. The parent runs the simulator; PostgreSQL holds the shared log and the leases.
// Everything this instance sees goes to the parent over IPC: ownership changes, and every append
// it tried (through a thin wrapper around the store), landed or refused, with the wall-clock time
// it was called, so the parent can tell a write issued after a freeze from one issued before it.
import { isStoreError, openPostgresStore, type EventStore, type StoreErrorCode } from "@cloudsession/store";
import { readFileSync } from "node:fs";
import { createEngine, type OwnershipChange, type SessionHandle } from "../../src/index.js";

export interface FailoverSessionSpec {
  /** Position in the parent's list of sessions. */
  readonly index: number;
  readonly repository: { readonly owner: string; readonly name: string };
  readonly prompts: readonly string[];
}

export interface FailoverChildConfig {
  readonly instanceId: string;
  readonly connectionString: string;
  readonly schema: string;
  readonly runtimeUrl: string;
  readonly leaseTtlMs: number;
  readonly pollMs: number;
  /** Sessions this instance starts with `engine.start` when told `start`. */
  readonly sessions: readonly FailoverSessionSpec[];
}

/** What the parent asks. Every request with a `requestId` gets one `reply`. */
export type ParentMessage =
  | { readonly type: "start" }
  | { readonly type: "send"; readonly requestId: number; readonly prompts: readonly { readonly id: string; readonly text: string }[] }
  | { readonly type: "close"; readonly requestId: number; readonly ids: readonly string[] }
  | { readonly type: "shutdown" };

/** A coordination call (renew, claim, …) that took longer than 300 ms: `[method, ms, calledAt]`. */
export type SlowCall = readonly [method: string, ms: number, calledAt: number];
const SLOW_CALL_MS = 300;

/** One append this instance tried: `[streamId, event types, calledAt, settledAt, outcome, fenced]` (outcome: a store error's code when refused). */
export type AppendRecord = readonly [streamId: string, events: string, calledAt: number, settledAt: number, outcome: "landed" | StoreErrorCode | "other", fenced: boolean];

/** `[sessionKey, probe point, at]` */
export type SendPoint = readonly [string, "before:send" | "after:send", number];

export type ChildMessage =
  | { readonly type: "ready" }
  | { readonly type: "started"; readonly index: number; readonly id: string }
  | { readonly type: "ownership"; readonly change: OwnershipChange; readonly at: number }
  /**
   * Sent every 100 ms: sessions this instance owns and how many are mid-turn, what it appended and
   * which coordination calls were slow since the last one; `lagMs`: how late this tick fired (how
   * long the event loop was busy or the process starved).
   */
  | {
      readonly type: "status";
      readonly owned: number;
      readonly streaming: number;
      readonly completedPrompts: number;
      readonly appends: readonly AppendRecord[];
      readonly slowCalls: readonly SlowCall[];
      /** `[sessionKey, "before:send" | "after:send", at]`: when this instance began and finished each send to the runtime. */
      readonly sends: readonly SendPoint[];
      readonly lagMs: number;
      readonly at: number;
    }
  | { readonly type: "error"; readonly sessionKey: string; readonly code: string | null; readonly message: string; readonly at: number }
  | { readonly type: "reply"; readonly requestId: number; readonly states: readonly string[] }
  | { readonly type: "closed"; readonly appends: readonly AppendRecord[] };

const config = JSON.parse(readFileSync(process.argv[2] ?? "", "utf8")) as FailoverChildConfig;
const tell = (message: ChildMessage): void => void process.send?.(message);

let appends: AppendRecord[] = [];
let slowCalls: SlowCall[] = [];
let sends: SendPoint[] = [];
// Below the lease TTL: a transaction left open by a frozen instance ends before its leases are due.
const base = await openPostgresStore({ connectionString: config.connectionString, schema: config.schema, idleInTransactionTimeoutMs: 1_000 });
const coordination = base.coordination;
// Times every coordination call (a renewal slower than the lease's margin loses the lease).
const timedCoordination =
  coordination === undefined
    ? undefined
    : new Proxy(coordination, {
        get(target, property) {
          const value: unknown = Reflect.get(target, property, target);
          if (typeof value !== "function") return value;
          return (...args: unknown[]) => {
            const calledAt = Date.now();
            const result = (value as (...args: unknown[]) => unknown).apply(target, args);
            if (result instanceof Promise) {
              void result.then(
                () => Date.now() - calledAt > SLOW_CALL_MS && slowCalls.push([String(property), Date.now() - calledAt, calledAt]),
                () => undefined,
              );
            }
            return result;
          };
        },
      });
// Observes every append the engine makes; changes nothing (same arguments, same result or error).
const store = new Proxy(base, {
  get(target, property) {
    if (property === "coordination") return timedCoordination;
    if (property === "append") {
      return async (...args: Parameters<EventStore["append"]>) => {
        const calledAt = Date.now();
        const fenced = args[2]?.fence !== undefined;
        const types = args[1].map((event) => event.type).join(",");
        try {
          const result = await target.append(...args);
          appends.push([args[0], types, calledAt, Date.now(), "landed", fenced]);
          return result;
        } catch (error) {
          appends.push([args[0], types, calledAt, Date.now(), isStoreError(error) ? error.code : "other", fenced]);
          throw error;
        }
      };
    }
    const value: unknown = Reflect.get(target, property, target);
    return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
  },
});

const owned = new Set<string>();
const engine = createEngine({
  runtimeUrl: config.runtimeUrl,
  store,
  maxConcurrent: 500,
  heartbeatMs: 1_000,
  probe: (point, sessionKey) => {
    if (point === "before:send" || point === "after:send") sends.push([sessionKey, point, Date.now()]);
  },
  onError: (error, sessionKey) => {
    const code = isStoreError(error) ? error.code : null;
    tell({ type: "error", sessionKey, code, message: error instanceof Error ? error.message : String(error), at: Date.now() });
  },
  cluster: {
    instanceId: config.instanceId,
    leaseTtlMs: config.leaseTtlMs,
    pollMs: config.pollMs,
    onOwnershipChange: (change) => {
      if (change.kind === "acquired") owned.add(change.sessionId);
      else owned.delete(change.sessionId);
      tell({ type: "ownership", change, at: Date.now() });
    },
  },
});

let lastTick = Date.now();
function status(): void {
  const now = Date.now();
  const lagMs = Math.max(0, now - lastTick - 100);
  lastTick = now;
  let streaming = 0;
  let completedPrompts = 0;
  for (const session of engine.sessions) {
    if (!owned.has(session.id)) continue;
    if (session.state === "streaming") streaming++;
    completedPrompts += session.snapshot().context.prompts.filter((prompt) => prompt.status === "completed").length;
  }
  tell({ type: "status", owned: owned.size, streaming, completedPrompts, appends, slowCalls, sends, lagMs, at: now });
  appends = [];
  slowCalls = [];
  sends = [];
}
const ticker = setInterval(status, 100);

process.on("message", (message: ParentMessage) => {
  void handle(message).catch((error: unknown) => {
    console.error(`failover child ${config.instanceId}: ${message.type} failed:`, error);
    process.exit(3);
  });
});

async function handle(message: ParentMessage): Promise<void> {
  switch (message.type) {
    case "start":
      for (const spec of config.sessions) {
        const session = await engine.start({ repository: spec.repository, prompts: spec.prompts });
        tell({ type: "started", index: spec.index, id: session.id });
      }
      return;
    case "send": {
      // For a session owned elsewhere the handle appends a command that the owner carries out.
      for (const prompt of message.prompts) await (await engine.resume(prompt.id)).send(prompt.text);
      tell({ type: "reply", requestId: message.requestId, states: [] });
      return;
    }
    case "close": {
      const handles: SessionHandle[] = await Promise.all(message.ids.map((id) => engine.resume(id)));
      const outcomes = await Promise.all(handles.map((session) => session.close("failover test done")));
      tell({ type: "reply", requestId: message.requestId, states: outcomes.map((outcome) => outcome.state) });
      return;
    }
    case "shutdown": {
      clearInterval(ticker);
      // Each step timed on stderr: the parent prints this output when a shutdown does not finish.
      const began = Date.now();
      await engine.close();
      console.error(`failover child ${config.instanceId}: engine closed after ${Date.now() - began} ms`);
      await base.close();
      console.error(`failover child ${config.instanceId}: store closed after ${Date.now() - began} ms`);
      tell({ type: "closed", appends });
      process.disconnect();
      // Engine and store are closed (timed above). A process that was frozen sometimes keeps one
      // pipe handle open after that (its IPC channel, after the backlog of the freeze): say so, and
      // exit rather than hang the test on the harness.
      setTimeout(() => {
        const handles = (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles();
        console.error(`failover child ${config.instanceId}: still alive 2 s after closing; handles: ${handles.map(describeHandle).join(", ")}; exiting`);
        process.exit(0);
      }, 2_000).unref();
      return;
    }
  }
}

tell({ type: "ready" });

function describeHandle(handle: object): string {
  const name = handle.constructor.name;
  if (name === "Socket") {
    const socket = handle as { remoteAddress?: string; remotePort?: number; localPort?: number; destroyed?: boolean };
    return `Socket(${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"} from ${socket.localPort ?? "?"}${socket.destroyed === true ? ", destroyed" : ""})`;
  }
  return name;
}
