import { tick } from "./report.js";

/**
 * Polls until `done()` holds (cheap checks over many sessions; no per-session subscription that
 * would skew heap figures). `progress` is logged every 15 s so a stuck run says where it is.
 */
export async function waitUntil(done: () => boolean, what: string, timeoutMs: number, progress?: () => string, pollMs = 10): Promise<void> {
  if (!(await waitAtMost(done, what, timeoutMs, progress, pollMs))) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${progress ? ` (${progress()})` : ""}`);
}

/** Like {@link waitUntil}, but resolves false instead of throwing when the time is up. */
export async function waitAtMost(done: () => boolean, what: string, timeoutMs: number, progress?: () => string, pollMs = 10): Promise<boolean> {
  const started = Date.now();
  let reported = started;
  while (!done()) {
    const now = Date.now();
    if (now - started > timeoutMs) return false;
    if (progress && now - reported > 15_000) {
      reported = now;
      console.error(`  waiting for ${what}: ${progress()}`);
    }
    await tick(pollMs);
  }
  return true;
}

/**
 * `close()` bounded in time: the SDK client's `stop()` ends sessions one request at a time, which
 * with 10,000 sessions takes minutes. Returns whether it finished; the caller then closes the
 * simulator, which ends whatever is left.
 */
export async function closeWithin(close: () => Promise<void>, ms: number): Promise<boolean> {
  let finished = false;
  const closing = close().then(
    () => (finished = true),
    () => (finished = true),
  );
  await Promise.race([closing, tick(ms)]);
  return finished;
}
