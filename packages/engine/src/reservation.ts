import { wantsReservation, type Repository, type SessionEvent, type SessionRequested, type SessionSnapshot } from "@cloudsession/machine";
import type { RawSessionEvent } from "@cloudsession/rx";
import type { CopilotSession } from "@github/copilot-sdk";
import { classifyCreateError } from "./classifyCreateError.js";
import type { RunnerEnvironment } from "./runnerEnvironment.js";
import type { SdkEventIntake } from "./sdkEventIntake.js";

/** What a reservation needs from its session. */
export interface ReservationPort {
  readonly id: string;
  snapshot(): SessionSnapshot;
  isStopped(): boolean;
  /** False (and the runner stops) when a cluster lease may have lapsed. */
  mayAct(): boolean;
  acquireSlot(): Promise<void>;
  commit(events: readonly SessionEvent[]): Promise<unknown>;
  /** The task is reserved: this SDK session is the one to act through. */
  useCreated(session: CopilotSession): void;
  /** After the reservation is recorded: recover from history what the client dropped. */
  catchUpFromHistory(session: CopilotSession): Promise<void>;
  reconcile(): void;
}

/**
 * Reserving the cloud task: one `createSession` per attempt the machine starts, its failure
 * classified (policy, transient, other) and recorded for the machine to decide on a retry.
 */
export class Reservation {
  private creating = false;

  constructor(
    private readonly env: RunnerEnvironment,
    private readonly request: SessionRequested,
    private readonly intake: SdkEventIntake,
    private readonly port: ReservationPort,
  ) {}

  /** Starts the attempt the machine asks for, unless one is running. */
  reconcile(snapshot: SessionSnapshot): void {
    if (wantsReservation(snapshot) && !this.creating) void this.create(snapshot.context.attempts);
  }

  private async create(attempt: number): Promise<void> {
    this.creating = true;
    try {
      await this.port.acquireSlot();
      if (this.isOver(attempt)) return;
      const client = await this.env.runtime.client();
      if (this.isOver(attempt)) return;
      if (!this.port.mayAct()) return;
      const early: RawSessionEvent[] = [];
      let session: CopilotSession | undefined;
      try {
        this.env.probe?.("before:createSession", this.port.id);
        session = await client.createSession({
          streaming: true,
          ...this.target(),
          onPermissionRequest: this.env.onPermissionRequest,
          // Attached before the first event is dispatched; buffered until we know the session.
          onEvent: (event) => (session ? this.intake.receive(event) : early.push(event)),
        });
      } catch (error) {
        if (this.isOver(attempt)) return;
        await this.recordFailure(error);
        return;
      }
      this.env.probe?.("after:createSession", this.port.id);
      if (this.isOver(attempt)) {
        // The session ended (or timed out) while the task was being reserved: let it go.
        await session.disconnect().catch(() => undefined);
        return;
      }
      this.port.useCreated(session);
      await this.port.commit([{ type: "reservation.succeeded", sessionId: session.sessionId, at: this.env.clock.now() }]);
      for (const event of early) this.intake.receive(event);
      // An early session.start (before the SDK registered the session) was dropped by the client:
      // recover it, and anything else missed, from the stored history.
      await this.port.catchUpFromHistory(session);
    } catch (error) {
      if (!this.isOver(attempt)) await this.recordFailure(error);
    } finally {
      this.creating = false;
      this.port.reconcile();
    }
  }

  private recordFailure(error: unknown): Promise<unknown> {
    const { failure, message } = classifyCreateError(error);
    return this.port.commit([{ type: "reservation.failed", failure, message, random: this.env.random(), at: this.env.clock.now() }]);
  }

  /** The runner stopped, or the machine moved past this attempt (it timed out, the session ended). */
  private isOver(attempt: number): boolean {
    if (this.port.isStopped()) return true;
    const snapshot = this.port.snapshot();
    return !(wantsReservation(snapshot) && snapshot.context.attempts === attempt);
  }

  /** What the create call targets: a cloud task in the repository, or the runtime's own process. */
  private target(): { cloud: { repository: Repository } } | { workingDirectory?: string } {
    if (this.request.mode === "local") return this.request.workingDirectory === undefined ? {} : { workingDirectory: this.request.workingDirectory };
    return { cloud: { repository: { ...this.request.repository } } };
  }
}
