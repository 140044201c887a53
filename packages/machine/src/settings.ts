/** Bounded, jittered exponential backoff for transient reservation failures. */
export interface RetrySettings {
  /** Create attempts in all, the first included. */
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
  /** Fraction of each delay that is randomised away (0 = none, 1 = "full jitter"). */
  readonly jitter: number;
}

/** Every time limit of a session's lifecycle, in milliseconds. */
export interface SessionSettings {
  /** From the request to a reserved task, retries included. */
  readonly reservationTimeoutMs: number;
  /** From the reservation to the remote agent's `session.start` (producer `copilot-agent`). */
  readonly agentStartTimeoutMs: number;
  /** Longest silence inside a turn; then the turn is aborted (see the machine's docs). */
  readonly turnStallTimeoutMs: number;
  readonly retry: RetrySettings;
}

export type SessionSettingsInput = Partial<Omit<SessionSettings, "retry">> & {
  readonly retry?: Partial<RetrySettings>;
};

export const defaultSessionSettings: SessionSettings = {
  reservationTimeoutMs: 120_000,
  agentStartTimeoutMs: 60_000,
  turnStallTimeoutMs: 300_000,
  retry: { maxAttempts: 4, initialDelayMs: 1_000, maxDelayMs: 30_000, multiplier: 2, jitter: 0.5 },
};

/** Fills in defaults. Settings are stored in the log's first event, so a replay uses the same ones. */
export function resolveSettings(input: SessionSettingsInput = {}): SessionSettings {
  return {
    reservationTimeoutMs: input.reservationTimeoutMs ?? defaultSessionSettings.reservationTimeoutMs,
    agentStartTimeoutMs: input.agentStartTimeoutMs ?? defaultSessionSettings.agentStartTimeoutMs,
    turnStallTimeoutMs: input.turnStallTimeoutMs ?? defaultSessionSettings.turnStallTimeoutMs,
    retry: { ...defaultSessionSettings.retry, ...input.retry },
  };
}

/**
 * The wait before retry number `failedAttempts` (1 after the first failure). `random` in [0, 1)
 * comes from the event, so the machine stays pure and a replay computes the same delay.
 */
export function backoffDelayMs(retry: RetrySettings, failedAttempts: number, random: number): number {
  const exponential = retry.initialDelayMs * retry.multiplier ** Math.max(0, failedAttempts - 1);
  const capped = Math.min(retry.maxDelayMs, exponential);
  const jitter = Math.min(1, Math.max(0, retry.jitter));
  return Math.round(capped * (1 - jitter * Math.min(1, Math.max(0, random))));
}
