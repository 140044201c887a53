import { checkSettings, resolveSettings, type Repository, type SessionRequested, type SessionSettings, type SessionSettingsInput } from "@cloudsession/machine";
import type { EventStore } from "@cloudsession/store";
import type { CopilotClient, CopilotClientOptions, PermissionHandler } from "@github/copilot-sdk";
import { randomUUID } from "node:crypto";
import type { InspectionEvent } from "xstate";
import { MAX_TIMER_DELAY_MS, type Clock } from "./clock.js";
import type { ClusterSettings } from "./cluster/clusterMember.js";
import { EngineError } from "./engineError.js";
import type { EngineLimits } from "./engineLimits.js";
import type { ProbePoint } from "./runnerEnvironment.js";
import type { RuntimeTarget } from "./runtimeConnection.js";

export interface EngineOptions {
  /** A started or startable SDK client you own. The engine never stops it. Over TCP, see `disableNagle`. */
  readonly client?: CopilotClient;
  /** A runtime already listening, e.g. `"127.0.0.1:4321"` (the simulator). The engine owns the client. */
  readonly runtimeUrl?: string;
  readonly connectionToken?: string;
  /** Spawn the runtime with these client options (live mode). The engine owns it. */
  readonly clientOptions?: CopilotClientOptions;
  /** Where the log goes. Defaults to an in-memory store (nothing survives the process). */
  readonly store?: EventStore;
  readonly clock?: Clock;
  /** Time limits and retry policy for new sessions (a session can override them). */
  readonly timeouts?: Omit<SessionSettingsInput, "retry">;
  readonly retry?: SessionSettingsInput["retry"];
  /** Sessions holding a runtime session at once; the rest wait in a fair line. Default 64. */
  readonly maxConcurrent?: number;
  /** Bounds on what the engine accepts; each refusal is an `EngineError` with its own code. See {@link EngineLimits}. */
  readonly limits?: Partial<EngineLimits>;
  /**
   * Set as the runtime's `GITHUB_COPILOT_INTEGRATION_ID` when the engine spawns it, and recorded in
   * each session's log. With an external runtime it belongs to that runtime's environment.
   */
  readonly integrationId?: string;
  /** Set as the runtime's `COPILOT_MC_BASE_URL` when the engine spawns it; recorded likewise. */
  readonly missionControlBaseUrl?: string;
  /** Record every `assistant.message_delta` in the log (default: no, deltas are live only). */
  readonly persistDeltas?: boolean;
  /** Answers the runtime's permission prompts. Default: approve (cloud sessions run on GitHub's compute). */
  readonly onPermissionRequest?: PermissionHandler;
  /** How often a live connection is checked, in ms (0 turns it off). Default 5,000. */
  readonly heartbeatMs?: number;
  /** Ids for sessions and prompts; random UUIDs by default. */
  readonly newId?: (kind: "session" | "prompt") => string;
  /** Randomness for retry jitter; `Math.random` by default. */
  readonly random?: () => number;
  /** Errors that no session can report (the store failing under a running session). Default: console.error. */
  readonly onError?: (error: unknown, sessionKey: string) => void;
  /**
   * XState inspection of every session actor (`createActor(…, { inspect })`), e.g. the Stately
   * inspector's `inspector.inspect`. Events and snapshots carry prompt texts: sanitize before sending.
   */
  readonly inspect?: (event: InspectionEvent) => void;
  /** Fault injection for crash tests: called at each labelled point of the write-ahead protocol. */
  readonly probe?: (point: ProbePoint, sessionKey: string) => void;
  /**
   * Run as one of several instances sharing the store (PostgreSQL): each session is owned through a
   * lease, free and orphaned sessions are picked up automatically, and commands for sessions owned
   * elsewhere travel through the store. Needs a store with `coordination`.
   */
  readonly cluster?: ClusterOptions;
}

/** Options of {@link EngineOptions.cluster}. */
export interface ClusterOptions {
  /** This instance's name in leases; unique among running instances. Default: a random UUID. */
  readonly instanceId?: string;
  /** Lease time to live in ms: a stopped instance's sessions are taken over within it. Default 15,000. */
  readonly leaseTtlMs?: number;
  /** How often to look for free sessions and commands when no notification came, in ms. Default 1,000. */
  readonly pollMs?: number;
  /** Told when this instance takes, loses or gives up a session. */
  readonly onOwnershipChange?: (change: OwnershipChange) => void;
}

/** A change of a session's owner, as seen by this instance. */
export interface OwnershipChange {
  readonly sessionId: string;
  /** `acquired`: started or picked up here; `lost`: the lease lapsed or was taken (writes refused); `released`: given up on close. */
  readonly kind: "acquired" | "lost" | "released";
  readonly instanceId: string;
}

export interface StartOptions {
  readonly repository: Repository;
  /** Prompts queued at once, in order. */
  readonly prompts?: readonly string[];
  /** Per-session overrides of the engine's time limits. */
  readonly settings?: SessionSettingsInput;
  /** Aborting it closes the session (queued prompts are reported undelivered). */
  readonly signal?: AbortSignal;
  /**
   * Run a local session in the runtime's own process instead of a cloud one (no `cloud` option on
   * create). `repository` still names the session.
   */
  readonly local?: { readonly workingDirectory?: string };
}

export interface CloseOptions {
  /**
   * `detach` (default): stop acting and leave every open session recoverable from the log;
   * `close`: end every open session first (queued prompts reported undelivered).
   */
  readonly sessions?: "detach" | "close";
}

/** Resolved settings, or `INVALID_ARGUMENT` naming the bad one (`where` says which option it came from). */
export function settingsOrThrow(input: SessionSettingsInput, where: string): SessionSettings {
  const settings = resolveSettings(input);
  const check = checkSettings(settings);
  if (!check.ok) throw new EngineError("INVALID_ARGUMENT", `${where}: ${check.message}`);
  return settings;
}

/** `maxConcurrent`, checked. */
export function maxConcurrentOf(options: EngineOptions): number {
  const maxConcurrent = options.maxConcurrent ?? 64;
  if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) throw new EngineError("INVALID_ARGUMENT", "maxConcurrent must be a positive integer");
  return maxConcurrent;
}

/** `heartbeatMs`, checked. */
export function heartbeatMsOf(options: EngineOptions): number {
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  if (typeof heartbeatMs !== "number" || !Number.isFinite(heartbeatMs) || heartbeatMs < 0 || heartbeatMs > MAX_TIMER_DELAY_MS) {
    throw new EngineError("INVALID_ARGUMENT", `heartbeatMs must be a number of milliseconds from 0 (off) to ${MAX_TIMER_DELAY_MS}, got ${String(heartbeatMs)}`);
  }
  return heartbeatMs;
}

export function sessionRequest(repository: Repository, settings: SessionSettings, local: StartOptions["local"], at: number): SessionRequested {
  if (local === undefined) return { type: "session.requested", repository, settings, at };
  const { workingDirectory } = local;
  return workingDirectory === undefined
    ? { type: "session.requested", repository, settings, mode: "local", at }
    : { type: "session.requested", repository, settings, mode: "local", workingDirectory, at };
}

export function runtimeTarget(options: EngineOptions): RuntimeTarget {
  const given = [options.client, options.runtimeUrl, options.clientOptions].filter((value) => value !== undefined).length;
  if (given > 1) throw new EngineError("INVALID_ARGUMENT", "give one of client, runtimeUrl and clientOptions");
  if (options.client) return { kind: "client", client: options.client };
  if (options.runtimeUrl !== undefined) {
    return options.connectionToken === undefined ? { kind: "uri", url: options.runtimeUrl } : { kind: "uri", url: options.runtimeUrl, connectionToken: options.connectionToken };
  }
  return { kind: "spawn", options: options.clientOptions ?? {} };
}

const DEFAULT_LEASE_TTL_MS = 15_000;
const DEFAULT_POLL_MS = 1_000;

export function clusterSettings(cluster: ClusterOptions): ClusterSettings {
  const leaseTtlMs = cluster.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  const pollMs = cluster.pollMs ?? DEFAULT_POLL_MS;
  const instanceId = cluster.instanceId ?? randomUUID();
  if (!Number.isInteger(leaseTtlMs) || leaseTtlMs < 500) throw new EngineError("INVALID_ARGUMENT", "cluster.leaseTtlMs must be an integer of at least 500 ms");
  if (!Number.isInteger(pollMs) || pollMs < 10) throw new EngineError("INVALID_ARGUMENT", "cluster.pollMs must be an integer of at least 10 ms");
  if (typeof instanceId !== "string" || instanceId.trim() === "") throw new EngineError("INVALID_ARGUMENT", "cluster.instanceId must be a non-empty string");
  return { instanceId, leaseTtlMs, pollMs };
}
