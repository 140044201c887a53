import type { SessionEvent, SessionLogEvent } from "@cloudsession/machine";
import { createMachineEventMapper, type RawSessionEvent } from "@cloudsession/rx";
import type { RunnerEnvironment } from "./runnerEnvironment.js";

/** What the intake needs from its session. */
export interface IntakePort {
  /** The session ended: late SDK events are ignored. */
  readonly finalized: boolean;
  /** The runner stopped acting: SDK events are no longer recorded here. */
  isStopped(): boolean;
  /** Records a machine event (to the log, then the machine). */
  record(event: SessionEvent): void;
  /** Shows an event live without recording it. */
  showLive(event: SessionEvent): void;
  /** The turn's stall window, for how often a sign of life is recorded. */
  turnStallTimeoutMs(): number;
}

/**
 * SDK session events in, machine events out: mapped and de-duplicated (an assistant message
 * already in the log is not recorded twice), and deltas either recorded or, by default, shown live
 * with a coalesced sign of life for the stall deadline.
 */
export class SdkEventIntake {
  /** Raw SDK events to machine events (de-duplicated); a plain function, not a Subject and a pipe. */
  private readonly toMachineEvent: (event: RawSessionEvent) => SessionEvent | undefined;
  private readonly knownMessages = new Set<string>();
  private lastProgressAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly env: RunnerEnvironment,
    private readonly port: IntakePort,
  ) {
    this.toMachineEvent = createMachineEventMapper({ now: () => env.clock.now() });
  }

  /** The assistant messages the log has: a history read must not record them again. */
  get knownAssistantMessages(): ReadonlySet<string> {
    return this.knownMessages;
  }

  /** Every event of the attached SDK session enters here: it is also proof that the connection is alive. */
  receive(event: RawSessionEvent): void {
    this.env.runtime.noteActivity(this.env.clock.now());
    this.intake(event);
  }

  /** An SDK event as a machine event, if it is one the lifecycle uses and not seen before; none once ended. */
  intake(event: RawSessionEvent): void {
    if (this.port.finalized) return;
    const machineEvent = this.toMachineEvent(event);
    if (machineEvent !== undefined) this.onMachineEvent(machineEvent);
  }

  /** Called for every event that reaches the log (written here, replayed, or mirrored). */
  noteRecorded(event: SessionLogEvent): void {
    if (event.type === "assistant.message") this.knownMessages.add(event.messageId);
  }

  private onMachineEvent(event: SessionEvent): void {
    if (this.port.isStopped()) return;
    if (event.type === "assistant.message" && this.knownMessages.has(event.messageId)) return;
    if (event.type === "assistant.delta" && !this.env.persistDeltas) {
      // Ephemeral by default: shown live, and the stall deadline hears a coalesced sign of life.
      this.port.showLive(event);
      const throttle = Math.max(1_000, this.port.turnStallTimeoutMs() / 10);
      if (event.at - this.lastProgressAt >= throttle) {
        this.lastProgressAt = event.at;
        this.port.record({ type: "turn.progressed", at: event.at });
      }
      return;
    }
    this.port.record(event);
  }
}
