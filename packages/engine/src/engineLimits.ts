import { EngineError } from "./engineError.js";

/** What the engine accepts at most. A request beyond a limit is refused whole: nothing of it is recorded. */
export interface EngineLimits {
  /** Prompts queued (submitted, not yet dispatched) per session; more is `QUEUE_FULL`. Default 1,000. */
  readonly maxQueuedPrompts: number;
  /** A prompt's size in UTF-8 bytes; more is `PROMPT_TOO_LARGE`. Default 262,144 (256 KiB). */
  readonly maxPromptBytes: number;
  /** New sessions waiting for a runtime slot (beyond `maxConcurrent`); more is `ENGINE_BUSY`. Default 1,000. */
  readonly maxWaitingSessions: number;
}

export const defaultEngineLimits: EngineLimits = { maxQueuedPrompts: 1_000, maxPromptBytes: 262_144, maxWaitingSessions: 1_000 };

/** The engine's `limits` option, resolved and checked: each a positive integer. */
export function limitsOf(given: Partial<EngineLimits> | undefined): EngineLimits {
  const limits = { ...defaultEngineLimits, ...given };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new EngineError("INVALID_ARGUMENT", `limits.${name} must be a positive integer, got ${String(value)}`);
  }
  return limits;
}
