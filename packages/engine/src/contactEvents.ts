import { lifecycleState, type SessionEvent, type SessionSnapshot } from "@cloudsession/machine";

/** The states where contact with the runtime counts: a task is reserved and the session is live. */
const IN_TOUCH_STATES = new Set(["awaiting-agent", "ready", "streaming"]);

/** `runtime.disconnected`, when the session is in contact now (else nothing: it is already out, or has no task yet). */
export function contactLost(snapshot: SessionSnapshot, at: number): SessionEvent[] {
  if (snapshot.status !== "active" || snapshot.context.contactLostAt !== null || !IN_TOUCH_STATES.has(lifecycleState(snapshot))) return [];
  return [{ type: "runtime.disconnected", at }];
}

/** `runtime.reconnected`, when the session is out of contact now. */
export function contactBack(snapshot: SessionSnapshot, at: number): SessionEvent[] {
  if (snapshot.status !== "active" || snapshot.context.contactLostAt === null) return [];
  return [{ type: "runtime.reconnected", at }];
}
