import type { SessionContext } from "./context.js";
import { CONTACT_DEADLINES, type DeadlineName } from "./events.js";

/**
 * Whether `deadline` has come due at `at` and counts now (the machine's `isDue`): armed, reached,
 * and not one that waits on the runtime while the session is out of contact with it.
 */
export function isDeadlineDue(context: SessionContext, deadline: DeadlineName, at: number): boolean {
  if (context.contactLostAt !== null && CONTACT_DEADLINES.includes(deadline)) return false;
  const due = context.deadlines[deadline];
  return due !== null && at >= due;
}
