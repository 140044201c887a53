/**
 * Formats milliseconds for people: `0.4s`, `12.3s`, `2m 05s`.
 *
 * @example
 * formatDuration(1234) // "1.2s"
 */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.floor((ms % 60_000) / 1000);
  return `${minutes}m ${String(seconds).padStart(2, "0")}s`;
}
