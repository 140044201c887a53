import type { SessionLogEvent } from "@cloudsession/machine";
import type { EventStore, Lease } from "@cloudsession/store";
import type { PermissionHandler } from "@github/copilot-sdk";
import type { InspectionEvent } from "xstate";
import type { Clock } from "./clock.js";
import type { EngineLimits } from "./engineLimits.js";
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
  /** What a session accepts at most (prompt size, queued prompts). */
  readonly limits: EngineLimits;
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
