/** What replaces anything the inspector must not see. */
export const REDACTED = "[redacted]";

// Prompt bodies and answers: the user's words, and the agent's, stay on this machine.
const bodyKeys = new Set(["text", "reply", "prompt", "content", "deltaContent", "input"]);
const secretKey = /token|secret|password|passwd|authorization|api[-_]?key|cookie/i;
const tokenPatterns: readonly RegExp[] = [
  /\bgh[pousr]_[A-Za-z0-9]{20,}\b/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}\b/g,
  /\bBearer\s+[A-Za-z0-9._~+/-]+=*/gi,
  /\b(?:sk|xox[abp])-[A-Za-z0-9-]{16,}\b/g,
];

/** Replaces token-like substrings of a string. */
export function redactTokens(text: string): string {
  return tokenPatterns.reduce((current, pattern) => current.replace(pattern, REDACTED), text);
}

/**
 * A deep copy of `value` with prompt bodies, replies and secrets replaced by `[redacted]`: what
 * the Stately inspector is allowed to see of a session. Objects with a `toJSON` are walked as what
 * it returns. Cycles and depth beyond `maxDepth` are cut.
 *
 * @example
 * redact({ prompts: [{ id: "p1", text: "my secret plan" }] }) // { prompts: [{ id: "p1", text: "[redacted]" }] }
 */
export function redact(value: unknown, maxDepth = 12): unknown {
  const seen = new WeakSet<object>();
  const walk = (current: unknown, depth: number): unknown => {
    if (typeof current === "string") return redactTokens(current);
    if (typeof current !== "object" || current === null) return current;
    if (seen.has(current) || depth > maxDepth) return REDACTED;
    seen.add(current);
    // Seen as JSON would write it: a session's prompt list (a persistent list) is its array of prompts.
    if (hasToJson(current)) return walk(current.toJSON(), depth);
    if (Array.isArray(current)) return current.map((item: unknown) => walk(item, depth + 1));
    const copy: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(current)) {
      if (typeof child === "function") continue;
      copy[key] = (bodyKeys.has(key) && typeof child === "string") || (secretKey.test(key) && child !== null && child !== undefined) ? REDACTED : walk(child, depth + 1);
    }
    return copy;
  };
  return walk(value, 0);
}

function hasToJson(value: object): value is { toJSON(): unknown } {
  return typeof (value as { toJSON?: unknown }).toJSON === "function";
}
