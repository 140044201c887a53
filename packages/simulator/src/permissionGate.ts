import type { SessionEvent } from "./events.js";
import type { Rng } from "./rng.js";
import type { SessionStatsRecord } from "./stats.js";

/** Permission decisions the client sends, mapped to the result kinds `permission.completed` reports. */
const COMPLETED_KIND: Readonly<Record<string, string>> = {
  "approve-once": "approved",
  "approve-for-session": "approved-for-session",
  "approve-for-location": "approved-for-location",
  "approve-permanently": "approved",
  reject: "denied-interactively-by-user",
  "user-not-available": "denied-no-approval-rule-and-could-not-request-from-user",
};

/** True when the client's decision lets the tool run. */
export function isApproval(decision: string): boolean {
  return COMPLETED_KIND[decision]?.startsWith("approved") === true;
}

/** What a turn waiting on a permission exposes, so that an abort can end the wait. */
export interface PermissionWaiter {
  cancelPermission: (() => void) | undefined;
}

export interface PermissionGateDeps {
  readonly rng: Rng;
  readonly stats: SessionStatsRecord;
  readonly emit: (type: string, data: Readonly<Record<string, unknown>>) => SessionEvent;
}

/**
 * A session's tool permissions: `permission.requested` out, the client's answer in
 * (`permission.completed`), and the turn waiting in between.
 */
export class PermissionGate {
  readonly #deps: PermissionGateDeps;
  readonly #pending = new Map<string, (kind: string) => void>();

  constructor(deps: PermissionGateDeps) {
    this.#deps = deps;
  }

  /** Asks for the simulated shell command; resolves with the decision, or "cancelled" on abort. */
  ask(waiter: PermissionWaiter): Promise<string> {
    const requestId = this.#deps.rng.uuid();
    this.#deps.stats.permissionRequests++;
    return new Promise<string>((resolve) => {
      this.#pending.set(requestId, resolve);
      waiter.cancelPermission = () => {
        this.#pending.delete(requestId);
        resolve("cancelled");
      };
      this.#deps.emit("permission.requested", {
        requestId,
        permissionRequest: {
          kind: "shell",
          canOfferSessionApproval: false,
          commands: [{ identifier: "echo", readOnly: true }],
          fullCommandText: "echo simulated",
          hasWriteFileRedirection: false,
          intention: "Run a simulated command",
          possiblePaths: [],
          possibleUrls: [],
        },
      });
    });
  }

  /** The client's answer to a `permission.requested`; false when the request is not pending. */
  answer(requestId: string, kind: string): boolean {
    const resolve = this.#pending.get(requestId);
    if (resolve === undefined) return false;
    this.#pending.delete(requestId);
    this.#deps.stats.permissionDecisions.push(kind);
    this.#deps.emit("permission.completed", { requestId, result: { kind: COMPLETED_KIND[kind] ?? "denied-interactively-by-user" } });
    resolve(kind);
    return true;
  }
}
