import type { PromptRecord, SessionContext } from "./context.js";
import { CONTACT_DEADLINES, type DeadlineName } from "./events.js";
import type { SessionSnapshot } from "./replay.js";

/** The flat lifecycle name of a snapshot: `reserving`, `awaiting-agent`, `ready`, `streaming`, or a final state. */
export type LifecycleState = "reserving" | "awaiting-agent" | "ready" | "streaming" | "blocked" | "failed" | "closed";

/** The top-level state of a snapshot, without sub-states. */
export function lifecycleState(snapshot: SessionSnapshot): LifecycleState {
  const value = snapshot.value;
  return (typeof value === "string" ? value : Object.keys(value)[0]) as LifecycleState;
}

export function isFinal(state: LifecycleState): state is "blocked" | "failed" | "closed" {
  return state === "blocked" || state === "failed" || state === "closed";
}

/** The queue, in order: prompts submitted and not yet dispatched. O(queue length); `context.prompts.queueLength` counts them in O(1). */
export function queuedPrompts(context: SessionContext): PromptRecord[] {
  return context.prompts.queued();
}

/** The prompt whose turn is running (`dispatching` or `sent`), if any. */
export function promptInFlight(context: SessionContext): PromptRecord | undefined {
  return context.inFlight === null ? undefined : context.prompts.get(context.inFlight);
}

/**
 * The prompt the engine should dispatch now, if any: the queue's head, once the agent is there
 * and no turn is running.
 */
export function promptToDispatch(snapshot: SessionSnapshot): PromptRecord | undefined {
  // Out of contact a send could not be confirmed: the queue waits for the re-attach.
  if (lifecycleState(snapshot) !== "ready" || snapshot.context.contactLostAt !== null) return undefined;
  return snapshot.context.prompts.queueHead;
}

/** Whether the engine should be calling `createSession` now. */
export function wantsReservation(snapshot: SessionSnapshot): boolean {
  return subState(snapshot, "reserving") === "attempting";
}

/** Whether the running turn is being aborted (the engine calls `session.abort()`). */
export function wantsAbort(snapshot: SessionSnapshot): boolean {
  return subState(snapshot, "streaming") === "aborting";
}

function subState(snapshot: SessionSnapshot, parent: string): string | undefined {
  const value: unknown = snapshot.value;
  if (typeof value !== "object" || value === null) return undefined;
  const child: unknown = (value as Record<string, unknown>)[parent];
  return typeof child === "string" ? child : undefined;
}

/**
 * The earliest armed deadline that counts now, for the engine's single timer: out of contact with
 * the runtime, the ones that wait on it are paused (the machine would not judge them).
 */
export function nextDeadline(context: SessionContext): { readonly name: DeadlineName; readonly at: number } | undefined {
  let next: { name: DeadlineName; at: number } | undefined;
  const outOfContact = context.contactLostAt !== null;
  for (const [name, at] of Object.entries(context.deadlines) as [DeadlineName, number | null][]) {
    if (at === null || (outOfContact && CONTACT_DEADLINES.includes(name))) continue;
    if (next === undefined || at < next.at) next = { name, at };
  }
  return next;
}
