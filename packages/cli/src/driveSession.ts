import type { SessionHandle } from "@cloudsession/engine";
import { lifecycleState, type PromptStatus, type SessionOutcome } from "@cloudsession/machine";

const settled: ReadonlySet<PromptStatus> = new Set(["completed", "interrupted", "undelivered"]);

/**
 * Waits for a session to finish what it was given, then closes it: once the agent is ready, no
 * turn is running and every prompt (at least `expectedPrompts` of them) has settled. A session that
 * ends on its own (blocked, failed) resolves the same way.
 *
 * @example
 * const outcome = await driveSession(await engine.start({ repository, prompts: ["hi"] }), 1);
 */
export async function driveSession(handle: SessionHandle, expectedPrompts: number, closeReason = "all prompts answered"): Promise<SessionOutcome> {
  let closing = false;
  const check = (): void => {
    const snapshot = handle.snapshot();
    if (closing || snapshot.status !== "active" || lifecycleState(snapshot) !== "ready") return;
    const prompts = snapshot.context.prompts;
    if (prompts.length >= expectedPrompts && prompts.every((prompt) => settled.has(prompt.status))) {
      closing = true;
      void handle.close(closeReason);
    }
  };
  const subscription = handle.events$.subscribe(() => check());
  check();
  try {
    return await handle.outcome;
  } finally {
    subscription.unsubscribe();
  }
}
