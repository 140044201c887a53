import type { SessionLogEvent, SessionRequested } from "@cloudsession/machine";
import type { EventStore, JsonObject, NewEvent } from "@cloudsession/store";
import { encodeEvent } from "./eventCodec.js";
import type { SessionLease } from "./sessionLease.js";

/** What the recorder tells its session. */
export interface RecorderPort {
  /** An append failed or was refused; told once, in the same tick the recorder turns `failed`. */
  appendFailed(error: unknown): void;
}

/**
 * What became of one commit: its events are in the log (or it had nothing to write); the session
 * had ended before it ran; or the recorder failed (at this append or an earlier one) and nothing of
 * it was written, as far as the store told.
 */
export type CommitOutcome = "recorded" | "ended" | "failed";

/** One append of a session's events, as the runner decided it. */
export interface SessionAppend {
  readonly events: readonly SessionLogEvent[];
  /** The session ends with these events: the stream is marked final in the same write. */
  readonly final: boolean;
  /** The session's first append: its request (with `metadata` on it) leads, and the stream must be new. */
  readonly leading?: SessionRequested;
  readonly metadata?: JsonObject;
  /** Set with the reservation: the SDK session id, recorded on the stream's summary for `ls`. */
  readonly sessionId?: string;
}

/**
 * Records one session's events: serialised per session (so the log order is the machine's order),
 * each append checked against the stream's version and, in a cluster, fenced by the session's
 * lease. After a failed append nothing more is written from this recorder: its runner's machine is
 * ahead of the log, and a new runner continues from the log.
 */
export class SessionRecorder {
  private chain: Promise<unknown> = Promise.resolve();
  private inFlight = false;
  private refused = false;
  private cause: unknown;

  constructor(
    private readonly store: EventStore,
    private readonly streamId: string,
    private stored: number,
    private readonly lease: SessionLease,
    private readonly port: RecorderPort,
  ) {}

  /** The stream version written (or, for a follower, read) so far. */
  get version(): number {
    return this.stored;
  }

  /** A follower read the log up to `version`. */
  caughtUpTo(version: number): void {
    this.stored = version;
  }

  /** An append is in flight: the runner's machine is ahead of the log until it lands. */
  get appending(): boolean {
    return this.inFlight;
  }

  /** An append failed or was refused: nothing more is written from here. */
  get failed(): boolean {
    return this.refused;
  }

  /** Why the recorder failed (the store's error), once it has. */
  get failure(): unknown {
    return this.cause;
  }

  /**
   * Runs `step` after every earlier step has finished; resolves with its outcome, never rejects. A
   * step that throws (an append refused) fails the recorder: later steps still run, find `failed`
   * set, and say so.
   */
  enqueue(step: () => Promise<CommitOutcome>): Promise<CommitOutcome> {
    const next = this.chain.then(step).catch((error: unknown): CommitOutcome => {
      // Cleared on success in `append`, on failure here together with `failed`: no moment between.
      this.refused = true;
      this.inFlight = false;
      this.cause = error;
      this.port.appendFailed(error);
      return "failed";
    });
    this.chain = next;
    return next;
  }

  /** Resolves when every step enqueued so far has finished. */
  async settled(): Promise<void> {
    await this.chain;
  }

  /** Appends `write` at the expected version (a new stream for the first append). */
  async append(write: SessionAppend): Promise<void> {
    const all = write.leading ? [write.leading, ...write.events] : write.events;
    // In a cluster nothing is written without a lease: a runner that lost its own writes nothing.
    const fence = this.lease.fence();
    const encoded: NewEvent[] = all.map((event) => ({ ...(encodeEvent(event) as NewEvent), ...(write.metadata && event === write.leading ? { metadata: write.metadata } : {}) }));
    this.inFlight = true;
    const result = await this.store.append(this.streamId, encoded, {
      expectedVersion: write.leading ? "no_stream" : this.stored,
      ...(write.final ? { markFinal: true } : {}),
      ...(fence === undefined ? {} : { fence }),
      ...(write.leading ? { streamMetadata: streamMetadataOf(write.leading, write.metadata) } : {}),
      ...(write.sessionId === undefined ? {} : { streamMetadata: { sessionId: write.sessionId } }),
    });
    this.inFlight = false;
    this.stored = result.nextExpectedVersion;
  }
}

function streamMetadataOf(request: SessionRequested, metadata: JsonObject | undefined): JsonObject {
  const { owner, name, branch } = request.repository;
  return { repository: branch === undefined ? `${owner}/${name}` : `${owner}/${name}@${branch}`, ...(metadata ?? {}) };
}
