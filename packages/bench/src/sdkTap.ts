import { CopilotSession, type SessionEvent } from "@github/copilot-sdk";

type DispatchEvent = (this: CopilotSession, event: SessionEvent) => void;
type Send = (this: CopilotSession, ...args: unknown[]) => Promise<string>;

/** The two session methods the tap wraps; `_dispatchEvent` is SDK-internal (1.0.14), hence the check. */
interface TappedMethods {
  _dispatchEvent: DispatchEvent;
  send: Send;
}

/**
 * Records, with `clock`, two moments of every SDK session in this process (the engine's and a bare
 * handler's alike, since both use the SDK's `CopilotSession`): when the SDK hands an event that
 * `handsOver` accepts to the session's handlers, and when `session.send` is first called. Between
 * them is only the handler's own work; before and after, the SDK's JSON-RPC queue and writer.
 * `stop()` restores both methods.
 *
 * @throws Error when the SDK no longer has the internal `_dispatchEvent` this relies on.
 */
export function tapSdkSessions(
  handsOver: (event: SessionEvent) => boolean,
  on: { handedOver(sessionId: string, at: number): void; sendCalled(sessionId: string, at: number): void },
  clock: () => number,
): { stop(): void } {
  const prototype = CopilotSession.prototype as unknown as TappedMethods;
  const dispatch = prototype._dispatchEvent;
  const send = prototype.send;
  if (typeof dispatch !== "function") throw new Error("tapSdkSessions: CopilotSession.prototype._dispatchEvent is gone from this SDK version; update the tap");
  prototype._dispatchEvent = function (this: CopilotSession, event: SessionEvent): void {
    if (handsOver(event)) on.handedOver(this.sessionId, clock());
    dispatch.call(this, event);
  };
  prototype.send = function (this: CopilotSession, ...args: unknown[]): Promise<string> {
    on.sendCalled(this.sessionId, clock());
    return send.apply(this, args);
  };
  return {
    stop() {
      prototype._dispatchEvent = dispatch;
      prototype.send = send;
    },
  };
}
