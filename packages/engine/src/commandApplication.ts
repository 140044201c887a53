import type { SessionEvent, SessionSnapshot } from "@cloudsession/machine";
import type { SessionCommand } from "./runnerEnvironment.js";

/** What carrying out a command needs from the session that owns it. */
export interface CommandTarget {
  snapshot(): SessionSnapshot;
  now(): number;
  /** Records events, a function deciding in turn (see `SessionRunner.commit`). */
  commit(events: () => readonly SessionEvent[]): Promise<unknown>;
  requestClose(reason: string | undefined): Promise<unknown>;
  /** The session ended (its final state is in the log). */
  isFinalized(): boolean;
  isStopped(): boolean;
}

/**
 * Cluster mode: carries out a command from another instance on the session owned here.
 * Idempotent, so a command re-read after a crash (recorded, but not yet completed) changes nothing:
 * a prompt already in the log is skipped, an abort targets only the turn it was issued for. True
 * when the command is done with.
 */
export async function applyCommand(target: CommandTarget, command: SessionCommand): Promise<boolean> {
  switch (command.type) {
    case "prompt.submit":
      // Accepted durably by the follower that forwarded it: no limit refuses it here.
      await target.commit(() => (target.snapshot().context.prompts.has(command.promptId) ? [] : [{ type: "prompt.submitted", promptId: command.promptId, text: command.text, at: target.now() }]));
      break;
    case "turn.abort":
      await target.commit(() => {
        const { context } = target.snapshot();
        return target.snapshot().matches("streaming") && context.inFlight === command.promptId ? [{ type: "turn.abort-requested", at: target.now() }] : [];
      });
      break;
    case "session.close":
      await target.requestClose(command.reason);
      break;
  }
  // Done once the session's log has it, or the session had ended: a stopped runner's last append
  // may have been refused (the lease was lost) even though its machine took the command, so the
  // command stays pending for the next owner, which applies it idempotently.
  return target.isFinalized() || !target.isStopped();
}
