import { SimulatorError } from "./simulatorError.js";
import { checkUntidy, type Untidy } from "./untidy.js";

/** A closed interval `[min, max]` of simulated milliseconds (or characters, for chunk sizes). */
export type Range = readonly [min: number, max: number];

/** What the worker is told about the prompt it is answering, for scripted replies. */
export interface ReplyContext {
  readonly sessionId: string;
  /** `"owner/name"` for cloud sessions with a repository, otherwise undefined. */
  readonly repository: string | undefined;
  /** 1-based index of this turn within the session. */
  readonly turn: number;
}

/**
 * How the worker answers a prompt: one fixed text, a table keyed by exact prompt (with `"*"` as the
 * fallback), or a function.
 */
export type ReplyScript =
  | string
  | Readonly<Record<string, string>>
  | ((prompt: string, context: ReplyContext) => string);

/** A fault injected into `session.create`. */
export type CreateFault =
  | { readonly kind: "none" }
  /** Answer with the policy error (code -32000, data.reason "policy_blocked"). Never succeeds. */
  | { readonly kind: "policy_blocked" }
  /** Fail the first `failures` attempts for this repository with a retryable error, then succeed. */
  | { readonly kind: "transient"; readonly failures: number; readonly message?: string }
  /** Never answer. */
  | { readonly kind: "hang" };

/** A fault injected into one turn of a session, after `afterChunks` reply chunks were produced. */
export type TurnFault =
  | { readonly kind: "none" }
  /** Emit `session.error`, then end the turn. */
  | { readonly kind: "error"; readonly afterChunks: number; readonly turn?: number }
  /** Stop producing anything: no more deltas, no `session.idle`. Only an abort ends the turn. */
  | { readonly kind: "stall"; readonly afterChunks: number; readonly turn?: number }
  /** Drop every connection attached to the session; the (remote) worker finishes the turn anyway. */
  | { readonly kind: "drop"; readonly afterChunks: number; readonly turn?: number }
  /** Restart the whole runtime (all connections dropped, session state kept); the worker finishes. */
  | { readonly kind: "restart"; readonly afterChunks: number; readonly turn?: number };

/** Everything that shapes one session. All durations are simulated ms, multiplied by `timeScale`. */
export interface Behaviour {
  /** Time Mission Control takes to reserve the task before `session.create` answers. */
  readonly reservationLatencyMs: Range;
  /** Time from the create answer until the worker connects (`session.start`, producer copilot-agent). */
  readonly agentConnectLatencyMs: Range;
  /** The worker never connects: no `session.start`, every send is dropped. */
  readonly agentNeverConnects: boolean;
  /** The worker connects before the create answer, so the SDK drops `session.start` (history has it). */
  readonly earlyStart: boolean;
  readonly createFault: CreateFault;
  readonly reply: ReplyScript;
  /** Time between `assistant.turn_start` and the first chunk. */
  readonly thinkLatencyMs: Range;
  /** Time between two reply chunks. */
  readonly chunkLatencyMs: Range;
  /** Size of one reply chunk in characters. */
  readonly chunkSizeChars: Range;
  /** Emit ephemeral noise (`pending_messages.modified`, `session.title_changed`, `session.usage_info`, …). */
  readonly noise: boolean;
  /** Probability that a delivered event is delivered a second time (same id). History is unaffected. */
  readonly duplicateRate: number;
  /** Probability that a delivered event is held back and delivered after the next one. */
  readonly reorderRate: number;
  readonly turnFault: TurnFault;
  /** Prompts matching this ask for a permission (`permission.requested`) when the client can answer. */
  readonly permissionPattern: RegExp | null;
  /** The real runtime's disorder in live delivery, plus random connection drops; null keeps delivery tidy. */
  readonly untidy: Untidy | null;
}

/** A complete, resolved scenario: default behaviour plus per-repository overrides. */
export interface Scenario {
  readonly name: string;
  readonly seed: number;
  /** Real ms per simulated ms (0.01 makes a 1.5 s agent connect take 15 ms). */
  readonly timeScale: number;
  readonly defaults: Behaviour;
  /** Overrides keyed by `"owner/name"`, applied on top of `defaults` for cloud sessions on that repository. */
  readonly repositories: Readonly<Record<string, Partial<Behaviour>>>;
}

/** What callers write: every field optional. */
export interface ScenarioInput {
  readonly name?: string;
  readonly seed?: number;
  readonly timeScale?: number;
  readonly defaults?: Partial<Behaviour>;
  readonly repositories?: Readonly<Record<string, Partial<Behaviour>>>;
}

/** The behaviour of the real two-phase cloud start, with a short streamed reply. */
export const DEFAULT_BEHAVIOUR: Behaviour = {
  reservationLatencyMs: [200, 400],
  agentConnectLatencyMs: [1000, 2000],
  agentNeverConnects: false,
  earlyStart: false,
  createFault: { kind: "none" },
  reply: (prompt) => `Simulated reply to: ${prompt}`,
  thinkLatencyMs: [100, 300],
  chunkLatencyMs: [20, 60],
  chunkSizeChars: [4, 12],
  noise: true,
  duplicateRate: 0,
  reorderRate: 0,
  turnFault: { kind: "none" },
  permissionPattern: /\bpermission\b/i,
  untidy: null,
};

const checkRange = (label: string, range: Range): void => {
  const [min, max] = range;
  if (!Number.isFinite(min) || !Number.isFinite(max) || min < 0 || max < min) {
    throw new SimulatorError("invalid_scenario", `${label} must be [min, max] with 0 <= min <= max, got [${min}, ${max}]`);
  }
};

const checkBehaviour = (label: string, b: Partial<Behaviour>): void => {
  for (const key of ["reservationLatencyMs", "agentConnectLatencyMs", "thinkLatencyMs", "chunkLatencyMs", "chunkSizeChars"] as const) {
    const range = b[key];
    if (range !== undefined) checkRange(`${label}.${key}`, range);
  }
  if (b.chunkSizeChars !== undefined && b.chunkSizeChars[0] < 1) {
    throw new SimulatorError("invalid_scenario", `${label}.chunkSizeChars must start at 1 or more`);
  }
  for (const key of ["duplicateRate", "reorderRate"] as const) {
    const rate = b[key];
    if (rate !== undefined && !(rate >= 0 && rate <= 1)) {
      throw new SimulatorError("invalid_scenario", `${label}.${key} must be within [0, 1], got ${rate}`);
    }
  }
  if (b.untidy !== undefined && b.untidy !== null) checkUntidy(`${label}.untidy`, b.untidy);
};

/**
 * Resolves a partial scenario into a complete one and validates it.
 *
 * @example
 * ```ts
 * const scenario = defineScenario({
 *   seed: 7,
 *   timeScale: 0.01,
 *   repositories: { "octo/blocked": { createFault: { kind: "policy_blocked" } } },
 * });
 * ```
 * @throws SimulatorError `invalid_scenario` for negative or inverted ranges, rates outside [0, 1], or a bad timeScale.
 */
export function defineScenario(input: ScenarioInput = {}): Scenario {
  const timeScale = input.timeScale ?? 1;
  if (!Number.isFinite(timeScale) || timeScale < 0) {
    throw new SimulatorError("invalid_scenario", `timeScale must be a finite number >= 0, got ${timeScale}`);
  }
  const seed = input.seed ?? 1;
  if (!Number.isInteger(seed)) throw new SimulatorError("invalid_scenario", `seed must be an integer, got ${seed}`);
  const defaults = { ...DEFAULT_BEHAVIOUR, ...input.defaults };
  checkBehaviour("defaults", defaults);
  const repositories = { ...input.repositories };
  for (const [repo, overrides] of Object.entries(repositories)) {
    if (!/^[^/\s]+\/[^/\s]+$/.test(repo)) {
      throw new SimulatorError("invalid_scenario", `repository keys are "owner/name", got ${JSON.stringify(repo)}`);
    }
    checkBehaviour(`repositories["${repo}"]`, overrides);
  }
  return { name: input.name ?? "custom", seed, timeScale, defaults, repositories };
}

/** The behaviour for a session on `repository` (`"owner/name"`), or the defaults when none matches. */
export function behaviourFor(scenario: Scenario, repository: string | undefined): Behaviour {
  const overrides = repository === undefined ? undefined : scenario.repositories[repository];
  return overrides === undefined ? scenario.defaults : { ...scenario.defaults, ...overrides };
}

/** Picks the reply text for a prompt from a {@link ReplyScript}. */
export function replyFor(script: ReplyScript, prompt: string, context: ReplyContext): string {
  if (typeof script === "string") return script;
  if (typeof script === "function") return script(prompt, context);
  return script[prompt] ?? script["*"] ?? `Simulated reply to: ${prompt}`;
}
