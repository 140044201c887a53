import { ServiceError } from "./serviceError.js";

/** How long the service waits for a client, in ms. */
export interface ServiceTimeouts {
  /** From a connection's start (or its previous request) until a request's headers are complete. */
  readonly headersMs: number;
  /** Until a whole request, body included, has arrived: a body sent a byte at a time ends here with 408. */
  readonly requestMs: number;
  /** An idle keep-alive connection between two requests. Raise it above your proxy's idle timeout. */
  readonly keepAliveMs: number;
  /** A socket on which nothing moved either way; an event stream's heartbeats keep it moving. */
  readonly idleMs: number;
  /** How often an open event stream writes a comment line, so idle proxies don't cut it. */
  readonly heartbeatMs: number;
}

/** What the service takes at most. */
export interface ServiceLimits {
  /** Open connections; more are dropped at once. */
  readonly connections: number;
  /** Open event streams (`GET /sessions/:id/events`), all clients together; more get 503. */
  readonly eventStreams: number;
  /** Open event streams of one client (its address; see `trustProxy`); more get 429. */
  readonly eventStreamsPerClient: number;
  /**
   * A request body, in bytes; larger gets 413 `BODY_TOO_LARGE` before it is parsed. A prompt's own
   * limit is the engine's (`limits.maxPromptBytes`: 413 `PROMPT_TOO_LARGE`).
   */
  readonly bodyBytes: number;
}

export const defaultTimeouts: ServiceTimeouts = { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 10_000, idleMs: 120_000, heartbeatMs: 15_000 };

export const defaultLimits: ServiceLimits = { connections: 1_000, eventStreams: 500, eventStreamsPerClient: 16, bodyBytes: 1_048_576 };

/**
 * The timeouts with defaults filled in, checked: whole positive milliseconds, headers no later than
 * the whole request, heartbeats more often than the idle timeout would cut a stream.
 *
 * @throws ServiceError `INVALID_CONFIG`
 */
export function resolveTimeouts(given: Partial<ServiceTimeouts> = {}): ServiceTimeouts {
  const timeouts = { ...defaultTimeouts, ...given };
  for (const [name, value] of Object.entries(timeouts)) positiveInteger(`timeouts.${name}`, value);
  if (timeouts.headersMs > timeouts.requestMs) throw new ServiceError("INVALID_CONFIG", `timeouts.headersMs (${timeouts.headersMs}) may not exceed timeouts.requestMs (${timeouts.requestMs})`);
  if (timeouts.heartbeatMs >= timeouts.idleMs) throw new ServiceError("INVALID_CONFIG", `timeouts.heartbeatMs (${timeouts.heartbeatMs}) must be below timeouts.idleMs (${timeouts.idleMs}), or idle event streams are cut`);
  return timeouts;
}

/**
 * The limits with defaults filled in, each a whole positive number; the per-client cap on event
 * streams no higher than their total.
 *
 * @throws ServiceError `INVALID_CONFIG`
 */
export function resolveLimits(given: Partial<ServiceLimits> = {}): ServiceLimits {
  const limits = { ...defaultLimits, ...given };
  // A total below the default per-client cap lowers that cap with it, unless it was given.
  if (given.eventStreamsPerClient === undefined) limits.eventStreamsPerClient = Math.min(limits.eventStreamsPerClient, limits.eventStreams);
  for (const [name, value] of Object.entries(limits)) positiveInteger(`limits.${name}`, value);
  if (limits.eventStreamsPerClient > limits.eventStreams) throw new ServiceError("INVALID_CONFIG", `limits.eventStreamsPerClient (${limits.eventStreamsPerClient}) may not exceed limits.eventStreams (${limits.eventStreams})`);
  return limits;
}

function positiveInteger(name: string, value: unknown): void {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) throw new ServiceError("INVALID_CONFIG", `${name} must be a whole number above 0, got ${String(value)}`);
}

/**
 * A prompt the engine would take must fit in a body the service reads: a `maxPromptBytes` given to
 * the engine at or above `limits.bodyBytes` would answer `BODY_TOO_LARGE` for prompts it allows.
 *
 * @throws ServiceError `INVALID_CONFIG`
 */
export function checkPromptFitsBody(limits: ServiceLimits, maxPromptBytes: number | undefined): void {
  if (maxPromptBytes !== undefined && maxPromptBytes >= limits.bodyBytes) {
    throw new ServiceError("INVALID_CONFIG", `the engine's limits.maxPromptBytes (${maxPromptBytes}) must be below the service's limits.bodyBytes (${limits.bodyBytes}): a prompt that large could not arrive in a request`);
  }
}
