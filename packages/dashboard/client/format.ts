// Pure formatting, shared by the views and unit-tested in Node (no DOM here).
import type { PromptCounts, SessionStateName, SessionSummary } from "../src/protocol.js";

/**
 * "12 s", "4 min", "3 h", "2 d": how long ago, in the largest unit that fits.
 *
 * @example
 * age(90_000) // "1 min"
 */
export function age(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h`;
  return `${Math.floor(seconds / 86_400)} d`;
}

/**
 * "+1.25 s", "+2 min 5 s": an offset from a session's start.
 *
 * @example
 * offset(1250) // "+1.25 s"
 */
export function offset(ms: number): string {
  if (ms < 1000) return `+${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `+${(ms / 1000).toFixed(2)} s`;
  return `+${Math.floor(ms / 60_000)} min ${Math.floor((ms % 60_000) / 1000)} s`;
}

/** `2026-12-07 19:14:05.123` in local time. */
export function clock(epochMs: number): string {
  const date = new Date(epochMs);
  const pad = (value: number, width = 2) => String(value).padStart(width, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** "2 delivered, 1 queued" — the counts that are not zero; "none" when there are no prompts. */
export function promptCounts(counts: PromptCounts): string {
  const parts = [
    counts.delivered > 0 ? `${counts.delivered} delivered` : "",
    counts.queued > 0 ? `${counts.queued} queued` : "",
    counts.undelivered > 0 ? `${counts.undelivered} undelivered` : "",
  ].filter((part) => part !== "");
  return parts.length === 0 ? "none" : parts.join(", ");
}

/** The list's filters. */
export type Filter = "all" | "open" | "failed" | "blocked" | "closed";
export const FILTERS: readonly Filter[] = ["all", "open", "failed", "blocked", "closed"];

export function matchesFilter(session: Pick<SessionSummary, "final" | "state">, filter: Filter): boolean {
  switch (filter) {
    case "all":
      return true;
    case "open":
      return !session.final;
    default:
      return session.state === filter;
  }
}

/**
 * A case-insensitive matcher of the search text against a session's id and repository; undefined
 * when there is nothing to search for (every session matches).
 *
 * @example
 * searchMatcher("Octo/")?.({ id: "s-1", repository: "octo/demo" }) // true
 */
export function searchMatcher(search: string): ((session: Pick<SessionSummary, "id" | "repository">) => boolean) | undefined {
  const wanted = search.trim().toLowerCase();
  if (wanted === "") return undefined;
  return (session) => session.id.toLowerCase().includes(wanted) || session.repository.toLowerCase().includes(wanted);
}

/** Why a session ended, in one line: "blocked while reserving (policy_blocked): …", "closed: …". */
export function outcomeLine(session: Pick<SessionSummary, "state" | "failure" | "closeReason" | "damaged">): string | null {
  if (session.damaged !== null) return `the log cannot be read: ${session.damaged}`;
  if (session.failure !== null) return `${session.state} while ${session.failure.phase} (${session.failure.reason}): ${session.failure.message}`;
  if (session.state === "closed" && session.closeReason !== null) return `closed: ${session.closeReason}`;
  return null;
}

export const STATE_LABELS: Readonly<Record<SessionStateName, string>> = {
  reserving: "reserving",
  "awaiting-agent": "awaiting agent",
  ready: "ready",
  streaming: "streaming",
  blocked: "blocked",
  failed: "failed",
  closed: "closed",
};

/**
 * The first and last index (exclusive) of the rows to draw for a scroll position, with `overscan`
 * rows either side: the sessions list draws only what is on screen, whatever the count.
 *
 * @example
 * visibleRange({ scrollTop: 360, viewport: 720, rowHeight: 36, count: 10_000, overscan: 5 }) // { start: 5, end: 35 }
 */
export function visibleRange(options: { scrollTop: number; viewport: number; rowHeight: number; count: number; overscan: number }): { start: number; end: number } {
  const { scrollTop, viewport, rowHeight, count, overscan } = options;
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, Math.ceil((Math.max(0, scrollTop) + viewport) / rowHeight) + overscan);
  return { start, end: Math.max(start, end) };
}
