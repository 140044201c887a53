import { ErrorCodes, ResponseError } from "vscode-jsonrpc/node.js";

/** `data` of every JSON-RPC error the simulator sends: the SDK keeps only code, message and data. */
export interface RpcErrorData {
  readonly reason: string;
  readonly [key: string]: unknown;
}

/** Builds a JSON-RPC error whose `data.reason` carries the machine-readable cause. */
export function rpcError(code: number, message: string, data: RpcErrorData): ResponseError<RpcErrorData> {
  return new ResponseError(code, message, data);
}

/** Org policy or entitlement forbids the cloud task: terminal, never retry. */
export const policyBlocked = (repository: string | undefined): ResponseError<RpcErrorData> =>
  rpcError(
    -32000,
    `policy_blocked: cloud sessions are not allowed for ${repository ?? "this repository"} by organization policy`,
    { reason: "policy_blocked", ...(repository === undefined ? {} : { repository }) },
  );

/** A retryable infrastructure failure (what a reset socket or a 503 from Mission Control looks like). */
export const transient = (message: string, attempt: number): ResponseError<RpcErrorData> =>
  rpcError(ErrorCodes.InternalError, message, { reason: "transient", attempt });

/** A cloud create that named its own session id: Mission Control mints ids, so the claim is refused. */
export const sessionIdClaimRejected = (sessionId: string): ResponseError<RpcErrorData> =>
  rpcError(
    ErrorCodes.InvalidParams,
    `session_id_claim_rejected: cloud session ids are minted by Mission Control; do not pass sessionId (got ${sessionId})`,
    { reason: "session_id_claim_rejected", sessionId },
  );

export const sessionNotFound = (sessionId: string): ResponseError<RpcErrorData> =>
  rpcError(ErrorCodes.InvalidParams, `Session not found: ${sessionId}`, { reason: "session_not_found", sessionId });

export const sessionExists = (sessionId: string): ResponseError<RpcErrorData> =>
  rpcError(ErrorCodes.InvalidParams, `Session already exists: ${sessionId}`, { reason: "session_exists", sessionId });

export const invalidParams = (message: string): ResponseError<RpcErrorData> =>
  rpcError(ErrorCodes.InvalidParams, message, { reason: "invalid_params" });

export const methodNotFound = (method: string): ResponseError<RpcErrorData> =>
  rpcError(ErrorCodes.MethodNotFound, `Unhandled method ${method}`, { reason: "method_not_found", method });

export const unauthorized = (): ResponseError<RpcErrorData> =>
  rpcError(-32001, "Invalid connection token", { reason: "unauthorized" });
