import { EngineError } from "./engineError.js";
import type { EngineLimits } from "./engineLimits.js";

/**
 * A prompt as the engine accepts it: a non-empty string of at most `maxPromptBytes` UTF-8 bytes.
 *
 * @throws EngineError `INVALID_ARGUMENT`, `PROMPT_TOO_LARGE`
 */
export function checkPrompt(text: unknown, limits: EngineLimits): string {
  if (typeof text !== "string" || text.trim() === "") throw new EngineError("INVALID_ARGUMENT", "a prompt must be a non-empty string");
  // Cheap first: a string of n UTF-16 units takes at most 3n UTF-8 bytes.
  if (text.length * 3 > limits.maxPromptBytes) {
    const bytes = Buffer.byteLength(text, "utf8");
    if (bytes > limits.maxPromptBytes) throw new EngineError("PROMPT_TOO_LARGE", `a prompt of ${bytes} bytes is over the limit of ${limits.maxPromptBytes} bytes (limits.maxPromptBytes)`);
  }
  return text;
}

/**
 * A caller's own prompt id (for an idempotent retry): a non-empty string of at most 200 characters.
 *
 * @throws EngineError `INVALID_ARGUMENT`
 */
export function checkPromptId(promptId: unknown): string {
  if (typeof promptId !== "string" || promptId.trim() === "" || promptId.length > 200) throw new EngineError("INVALID_ARGUMENT", "promptId must be a non-empty string of at most 200 characters");
  return promptId;
}

/** A refusal for a session whose queue is full. */
export function queueFull(sessionKey: string, limits: EngineLimits): EngineError {
  return new EngineError("QUEUE_FULL", `session ${sessionKey} already has ${limits.maxQueuedPrompts} prompts queued (limits.maxQueuedPrompts); retry once some are delivered`, { retryAfterMs: QUEUE_FULL_RETRY_AFTER_MS });
}

/** A queue drains one prompt per turn: a turn takes seconds. */
const QUEUE_FULL_RETRY_AFTER_MS = 1_000;
