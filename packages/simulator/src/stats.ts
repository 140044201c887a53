/** Who the runtime says it is to Mission Control, read from the runtime's own environment. */
export interface CallerIdentity {
  /** `GITHUB_COPILOT_INTEGRATION_ID`: becomes the `Copilot-Integration-Id` header upstream. */
  readonly integrationId: string | undefined;
  /** `COPILOT_MC_BASE_URL`: the Mission Control endpoint override. */
  readonly missionControlBaseUrl: string | undefined;
}

/** What the client put in `session.create`, as far as the engine's contract cares. */
export interface CreateParamsRecord {
  /** Was a `cloud` key present? */
  readonly cloudPassed: boolean;
  /** `"owner/name"` from `cloud.repository`, if any. */
  readonly repository: string | undefined;
  /** Did the caller supply its own `sessionId`? */
  readonly sessionIdPassed: boolean;
  readonly streaming: boolean;
  readonly requestPermission: boolean;
}

/** What the client put in one `session.resume`. */
export interface ResumeParamsRecord {
  /** Was a `cloud` key present? (The engine must never pass it on resume.) */
  readonly cloudPassed: boolean;
  readonly streaming: boolean;
  readonly connectionId: number;
}

/** One prompt as seen by the runtime. */
export interface PromptRecord {
  readonly sessionId: string;
  readonly prompt: string;
  readonly messageId: string;
}

/** Counters for one session. Arrays are in arrival order. */
export interface SessionStats {
  readonly sessionId: string;
  readonly repository: string | undefined;
  readonly cloud: boolean;
  readonly createParams: CreateParamsRecord;
  readonly agentStarted: boolean;
  readonly sendsReceived: number;
  /** Prompt texts the worker really received, in order. */
  readonly promptsReceived: readonly string[];
  /** Prompt texts sent before the agent started, answered with a messageId and silently dropped. */
  readonly promptsDropped: readonly string[];
  readonly turnsCompleted: number;
  readonly aborts: number;
  readonly resumes: number;
  /** `session.detach` (the SDK's `disconnect()`) and `session.destroy` requests for the session. */
  readonly detaches: number;
  readonly resumeParams: readonly ResumeParamsRecord[];
  readonly permissionRequests: number;
  /** The `result.kind` of each answered permission request. */
  readonly permissionDecisions: readonly string[];
  readonly eventsEmitted: number;
}

/** Disorder the `untidy` behaviour put into live delivery (all sessions). */
export interface UntidyStats {
  /** Ephemeral events delivered before the persisted event they hang off. */
  readonly ephemeralBeforeParent: number;
  /** `model.*` events delivered after `assistant.idle` (or after `session.idle`). */
  readonly lateAfterIdle: number;
  /** Aborts that wrote `assistant.turn_end` before `abort`. */
  readonly abortsSwapped: number;
  /** Events delivered a second time (`session.resume`). */
  readonly redelivered: number;
  /** `session.lifecycle` notifications of type `session.updated`. */
  readonly lifecycleUpdates: number;
  /** Random drops that destroyed at least one client socket. */
  readonly drops: number;
}

/** Global counters plus per-session ones; live (they change as the simulator runs). */
export interface SimulatorStats {
  readonly identity: CallerIdentity;
  readonly connectionsOpened: number;
  readonly connectionsClosed: number;
  /** Client sockets the runtime destroyed: `dropConnections()`, `restart()`, the `drop` fault, untidy drops. */
  readonly connectionsDropped: number;
  readonly handshakes: number;
  readonly handshakesRejected: number;
  /** Every `session.create` request, including failed and unanswered ones. */
  readonly createAttempts: number;
  readonly createAttemptsByRepository: Readonly<Record<string, number>>;
  /** Failed creates by `data.reason` (`policy_blocked`, `transient`, `session_id_claim_rejected`, …). */
  readonly createFailures: Readonly<Record<string, number>>;
  readonly sessionsCreated: number;
  readonly sendsReceived: number;
  /** Every prompt the worker really received, across sessions, in order. */
  readonly received: readonly PromptRecord[];
  /** Every prompt dropped because the agent had not started, in order. */
  readonly dropped: readonly PromptRecord[];
  readonly aborts: number;
  readonly resumes: number;
  readonly restarts: number;
  /** Unparseable frames and messages that are not JSON-RPC. */
  readonly protocolErrors: number;
  readonly unknownMethods: number;
  readonly sessions: ReadonlyMap<string, SessionStats>;
  readonly untidy: UntidyStats;
  /** How many times the worker received `prompt` (optionally in one session): 1 means exactly once. */
  timesReceived(prompt: string, sessionId?: string): number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The mutable record behind {@link SessionStats}; only the simulator writes to it. */
export interface SessionStatsRecord extends Mutable<Omit<SessionStats, "promptsReceived" | "promptsDropped" | "resumeParams" | "permissionDecisions">> {
  readonly promptsReceived: string[];
  readonly promptsDropped: string[];
  readonly resumeParams: ResumeParamsRecord[];
  readonly permissionDecisions: string[];
}

/** The mutable record behind {@link UntidyStats}. */
export type UntidyStatsRecord = Mutable<UntidyStats>;

/** The mutable record behind {@link SimulatorStats}. */
export interface StatsRecord extends Mutable<Omit<SimulatorStats, "createAttemptsByRepository" | "createFailures" | "received" | "dropped" | "sessions" | "untidy" | "timesReceived">> {
  readonly untidy: UntidyStatsRecord;
  readonly createAttemptsByRepository: Record<string, number>;
  readonly createFailures: Record<string, number>;
  readonly received: PromptRecord[];
  readonly dropped: PromptRecord[];
  readonly sessions: Map<string, SessionStatsRecord>;
  timesReceived(prompt: string, sessionId?: string): number;
}

/** Creates an empty stats record. */
export function createStats(identity: CallerIdentity): StatsRecord {
  const received: PromptRecord[] = [];
  return {
    identity,
    connectionsOpened: 0,
    connectionsClosed: 0,
    connectionsDropped: 0,
    handshakes: 0,
    handshakesRejected: 0,
    createAttempts: 0,
    createAttemptsByRepository: {},
    createFailures: {},
    sessionsCreated: 0,
    sendsReceived: 0,
    received,
    dropped: [],
    aborts: 0,
    resumes: 0,
    restarts: 0,
    protocolErrors: 0,
    unknownMethods: 0,
    sessions: new Map(),
    untidy: { ephemeralBeforeParent: 0, lateAfterIdle: 0, abortsSwapped: 0, redelivered: 0, lifecycleUpdates: 0, drops: 0 },
    timesReceived: (prompt, sessionId) =>
      received.filter((r) => r.prompt === prompt && (sessionId === undefined || r.sessionId === sessionId)).length,
  };
}

/** Creates the per-session record at `session.create`. */
export function createSessionStats(sessionId: string, cloud: boolean, createParams: CreateParamsRecord): SessionStatsRecord {
  return {
    sessionId,
    repository: createParams.repository,
    cloud,
    createParams,
    agentStarted: false,
    sendsReceived: 0,
    promptsReceived: [],
    promptsDropped: [],
    turnsCompleted: 0,
    aborts: 0,
    resumes: 0,
    detaches: 0,
    resumeParams: [],
    permissionRequests: 0,
    permissionDecisions: [],
    eventsEmitted: 0,
  };
}

/** Adds one to a keyed counter. */
export function bump(counter: Record<string, number>, key: string): void {
  counter[key] = (counter[key] ?? 0) + 1;
}
