import type { ReservationFailure } from "@cloudsession/machine";

export interface ClassifiedCreateError {
  readonly failure: ReservationFailure;
  readonly message: string;
}

const transientCodes = new Set(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "ENOTCONN", "ECONNABORTED"]);
const transientText = /\b(timed? ?out|timeout|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|socket hang up|connection (?:lost|closed|reset|refused|disposed)|temporarily unavailable|service unavailable|bad gateway|gateway timeout|too many requests|rate limit|try again|50[234])\b/i;
// JSON-RPC server-error range (-32000..-32099) and internal error are the server's trouble, not ours.
const isServerErrorCode = (code: number) => code === -32603 || (code <= -32000 && code >= -32099);

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/**
 * Classifies a failed `createSession` — in one place. SDK 1.0.14 surfaces JSON-RPC errors as
 * vscode-jsonrpc `ResponseError` (`code`, `message`, `data`) and maps no `reason`, so the
 * documented `error.reason === "policy_blocked"` check never fires: `reason`, `data.reason` and the
 * message are all consulted.
 *
 * - `policy_blocked` anywhere → `policy_blocked` (terminal, never retried);
 * - a `reason` of `transient`, connection errors, time-outs, 5xx/429 and JSON-RPC server errors → `transient`;
 * - everything else → `fatal`.
 */
export function classifyCreateError(error: unknown): ClassifiedCreateError {
  const message = error instanceof Error ? error.message : typeof error === "string" ? error : "createSession failed";
  const data = field(error, "data");
  const reason = field(error, "reason") ?? field(data, "reason");
  const code = field(error, "code");
  if (reason === "policy_blocked" || reason === "policy_blocked_managed_device" || /\bpolicy_blocked/.test(message)) {
    return { failure: "policy_blocked", message };
  }
  if (reason === "transient") return { failure: "transient", message };
  if (typeof code === "string" && transientCodes.has(code)) return { failure: "transient", message };
  if (typeof code === "number" && isServerErrorCode(code) && reason === undefined) return { failure: "transient", message };
  if (transientText.test(message)) return { failure: "transient", message };
  return { failure: "fatal", message };
}
