import type { SessionLogEvent } from "@cloudsession/machine";
import type { SessionFollower } from "./sessionFollower.js";
import type { SessionHandle } from "./sessionHandle.js";
import type { SessionRunner } from "./sessionRunner.js";
import { SwitchableSessionHandle } from "./switchableSessionHandle.js";
import { observeSession } from "./telemetry.js";

/** What stands for a session here: its owner's runner, or (cluster mode) a follower. */
export type SessionBody = SessionRunner | SessionFollower;

/**
 * The sessions of one engine: the body acting (or following) for each, and the handle users hold,
 * which survives a change of body (of owner, or a revival after a failed append).
 */
export class SessionRegistry {
  private readonly bodies = new Map<string, SessionBody>();
  private readonly handles = new Map<string, SwitchableSessionHandle>();

  constructor(
    /** Told when a session ended and left the registry. */
    private readonly onEnded: (id: string) => void,
    /** Told of every body that comes to stand for a session (cluster mode gives a lease back when an owner ends). */
    private readonly onBody: (body: SessionBody) => void,
  ) {}

  body(id: string): SessionBody | undefined {
    return this.bodies.get(id);
  }

  handle(id: string): SwitchableSessionHandle | undefined {
    return this.handles.get(id);
  }

  has(id: string): boolean {
    return this.bodies.has(id);
  }

  /** Every body here, owners and followers. */
  all(): SessionBody[] {
    return [...this.bodies.values()];
  }

  /** The runners of the sessions owned here. */
  owners(): SessionRunner[] {
    return this.all().filter((body): body is SessionRunner => !body.isFollower);
  }

  /** The followers of sessions owned elsewhere that have not ended. */
  activeFollowers(): SessionFollower[] {
    return this.all().filter((body): body is SessionFollower => body.isFollower && body.snapshot().status === "active");
  }

  allHandles(): SessionHandle[] {
    return [...this.handles.values()];
  }

  /** A session new here: its body and a handle for it. */
  track(body: SessionBody): SessionHandle {
    this.bodies.set(body.id, body);
    const handle = new SwitchableSessionHandle(body);
    this.handles.set(body.id, handle);
    observeSession(handle); // OpenTelemetry through the public handle; a no-op unless the host set it up
    void handle.outcome.then(() => {
      this.handles.delete(body.id);
      this.bodies.delete(body.id);
      this.onEnded(body.id);
    });
    this.onBody(body);
    return handle;
  }

  /** `body` now stands for its session here, after the one before (if any): a change of owner, or a revival. */
  replace(body: SessionBody, log: readonly SessionLogEvent[]): SessionHandle {
    const handle = this.handles.get(body.id);
    const previous = this.bodies.get(body.id);
    if (handle === undefined || previous === undefined) return this.track(body);
    this.bodies.set(body.id, body);
    // An owner's runner was detached before this; a follower only stops forwarding (the handle
    // passes its unconfirmed prompts and a close on to the new runner).
    if (previous.isFollower) previous.retire();
    handle.switchTo(body, log.slice(previous.appliedVersion));
    this.onBody(body);
    return handle;
  }
}
