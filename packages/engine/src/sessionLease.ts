import { StoreError } from "@cloudsession/store";
import type { Fence, RunnerOwnership } from "./runnerEnvironment.js";

/**
 * Cluster mode: the lease a runner acts under, checked before every side effect the store cannot
 * fence (create, send, abort on the runtime) and carried by every append. On a single instance
 * there is no lease and everything is allowed.
 */
export class SessionLease {
  private lease: Fence | undefined;

  constructor(
    private readonly ownership: RunnerOwnership | undefined,
    private readonly sessionKey: string,
  ) {}

  /** Cluster mode: the lease to act under (set once, before the runner acts). */
  actUnder(lease: Fence): void {
    this.lease = { owner: lease.owner, token: lease.token };
  }

  /** False when a cluster lease may have lapsed by the local clock (e.g. the process was frozen), or none is held. */
  holds(): boolean {
    return this.ownership === undefined || (this.lease !== undefined && this.ownership.mayAct(this.sessionKey, this.lease.token));
  }

  /**
   * What an append carries: nothing on a single instance, the lease in a cluster.
   *
   * @throws StoreError `LEASE_LOST` in a cluster when no lease is held here: nothing is written without one.
   */
  fence(): Fence | undefined {
    if (this.ownership === undefined) return undefined;
    if (this.lease === undefined) throw new StoreError("LEASE_LOST", `session ${this.sessionKey}: no lease held here`, { details: { streamId: this.sessionKey } });
    return this.lease;
  }

  /** The runner stopped: whoever takes the session next continues it from the log (a stale token changes nothing). */
  lost(): void {
    this.ownership?.lost(this.sessionKey, this.lease?.token);
  }
}
