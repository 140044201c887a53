import type { SnapshotFrom } from "xstate";
import type { sessionMachine } from "./sessionMachine.js";

/**
 * A session's state: what a live actor holds after some events, and what `replay` folds a log into.
 * In its own module so the fold (`replay`), the actor and the compiled transitions can all name it
 * without importing each other.
 */
export type SessionSnapshot = SnapshotFrom<typeof sessionMachine>;
