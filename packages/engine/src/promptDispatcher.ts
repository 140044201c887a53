import { promptToDispatch, wantsAbort, type PromptRecord, type SessionEvent, type SessionSnapshot } from "@cloudsession/machine";
import { isConnectionError, errorMessage } from "./connectionErrors.js";
import type { RunnerEnvironment } from "./runnerEnvironment.js";
import type { SdkAttachment } from "./sdkAttachment.js";

/** What the dispatcher needs from its session. */
export interface DispatchPort {
  readonly id: string;
  snapshot(): SessionSnapshot;
  isStopped(): boolean;
  /** False (and the runner stops) when a cluster lease may have lapsed. */
  mayAct(): boolean;
  commit(events: readonly SessionEvent[]): Promise<unknown>;
  reconcile(): void;
}

/** The SDK session the dispatcher sends through (none while reserving; nothing is sent while re-attaching). */
export type DispatchTarget = Pick<SdkAttachment, "current" | "attaching" | "reportLostConnection">;

/**
 * Write-ahead dispatch: a prompt's `prompt.dispatching` intent is in the log before the send goes
 * out, and the send's outcome (its messageId, or the failure) is recorded after. One prompt at a
 * time; an unanswered send whose connection dropped stays open, to be settled from history.
 */
export class PromptDispatcher {
  private dispatching = false;
  /** The send in flight (from the SDK call until its outcome is recorded), if any. */
  private sending: Promise<void> | undefined;
  private abortSentFor: string | null = null;

  constructor(
    private readonly env: RunnerEnvironment,
    private readonly target: DispatchTarget,
    private readonly port: DispatchPort,
  ) {}

  /** The send on the wire, if any: a detaching runner waits for it (bounded). */
  get inFlightSend(): Promise<void> | undefined {
    return this.sending;
  }

  /**
   * The prompt to dispatch now, if any, marked as being dispatched: the caller records its
   * `prompt.dispatching` and then calls {@link sendDispatched}.
   */
  claim(): PromptRecord | undefined {
    if (this.dispatching || this.target.attaching || this.target.current === undefined || this.port.isStopped()) return undefined;
    const snapshot = this.port.snapshot();
    const prompt = snapshot.status === "active" ? promptToDispatch(snapshot) : undefined;
    if (prompt !== undefined) this.dispatching = true;
    return prompt;
  }

  /** A claimed prompt's intent could not be written: it is not being dispatched after all. */
  unclaim(): void {
    this.dispatching = false;
  }

  /** Acts on `snapshot`: dispatches the queue's head when it is due, sends an abort when one is wanted. */
  reconcile(snapshot: SessionSnapshot): void {
    const session = this.target.current;
    if (session === undefined) return;
    const prompt = promptToDispatch(snapshot);
    if (prompt && !this.dispatching) void this.dispatch(prompt.id, prompt.text);
    if (wantsAbort(snapshot) && this.abortSentFor !== snapshot.context.inFlight && this.port.mayAct()) {
      this.abortSentFor = snapshot.context.inFlight;
      void session.abort().catch(() => undefined);
    }
  }

  /** A new SDK session is attached: an abort for the running turn goes out again on it. */
  attached(): void {
    this.abortSentFor = null;
  }

  /** Sends a prompt whose `prompt.dispatching` is in the log, then records the outcome. */
  sendDispatched(promptId: string, text: string): Promise<void> {
    const sending = this.sendAndRecord(promptId, text);
    this.sending = sending;
    void sending.finally(() => {
      if (this.sending === sending) this.sending = undefined;
    });
    return sending;
  }

  private async dispatch(promptId: string, text: string): Promise<void> {
    this.dispatching = true;
    await this.port.commit([{ type: "prompt.dispatching", promptId, at: this.env.clock.now() }]);
    await this.sendDispatched(promptId, text);
  }

  private async sendAndRecord(promptId: string, text: string): Promise<void> {
    try {
      const session = this.target.current;
      if (this.port.isStopped() || !session || this.port.snapshot().context.inFlight !== promptId) return;
      // The intent is logged; if the lease may have lapsed the next owner settles it from history.
      if (!this.port.mayAct()) return;
      let messageId: string;
      try {
        this.env.probe?.("before:send", this.port.id);
        messageId = await session.send({ prompt: text });
        this.env.probe?.("after:send", this.port.id);
      } catch (error) {
        if (this.port.isStopped()) return;
        if (isConnectionError(error) && this.env.runtime.canReconnect) {
          // Unknown whether it arrived: the intent stays open and is settled from history on re-attach.
          void this.target.reportLostConnection();
          return;
        }
        await this.port.commit([{ type: "prompt.dispatch-failed", promptId, message: errorMessage(error), requeue: false, at: this.env.clock.now() }]);
        return;
      }
      await this.port.commit([{ type: "prompt.dispatched", promptId, messageId, at: this.env.clock.now() }]);
    } finally {
      this.dispatching = false;
      this.port.reconcile();
    }
  }
}
