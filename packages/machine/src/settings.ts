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
  /**
   * Longest time out of contact with the runtime (a dropped connection not replaced, a runtime that
   * keeps refusing re-attaches); then the session ends `failed`, reason `runtime-unreachable`.
   * Absent in logs written before it existed: the default applies.
   */
  readonly unreachableTimeoutMs: number;
  readonly retry: RetrySettings;
}

export type SessionSettingsInput = Partial<Omit<SessionSettings, "retry">> & {
  readonly retry?: Partial<RetrySettings>;
};

export const defaultSessionSettings: SessionSettings = {
  reservationTimeoutMs: 120_000,
  agentStartTimeoutMs: 60_000,
  turnStallTimeoutMs: 300_000,
  unreachableTimeoutMs: 300_000,
  retry: { maxAttempts: 4, initialDelayMs: 1_000, maxDelayMs: 30_000, multiplier: 2, jitter: 0.5 },
};

/** Fills in defaults. Settings are stored in the log's first event, so a replay uses the same ones. */
export function resolveSettings(input: SessionSettingsInput = {}): SessionSettings {
  return {
    reservationTimeoutMs: input.reservationTimeoutMs ?? defaultSessionSettings.reservationTimeoutMs,
    agentStartTimeoutMs: input.agentStartTimeoutMs ?? defaultSessionSettings.agentStartTimeoutMs,
    turnStallTimeoutMs: input.turnStallTimeoutMs ?? defaultSessionSettings.turnStallTimeoutMs,
    unreachableTimeoutMs: input.unreachableTimeoutMs ?? defaultSessionSettings.unreachableTimeoutMs,
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

export type SettingsCheck = { readonly ok: true } | { readonly ok: false; readonly setting: string; readonly message: string };

/**
 * Checks resolved settings: every time limit a finite number of milliseconds > 0, and a retry
 * policy that terminates. A deadline is an absolute time in the log; `Infinity` or `NaN` would
 * never (or always) be due.
 *
 * @example
 * checkSettings(resolveSettings({ turnStallTimeoutMs: 0 })) // { ok: false, setting: "turnStallTimeoutMs", message: "…" }
 */
export function checkSettings(settings: SessionSettings): SettingsCheck {
  for (const name of ["reservationTimeoutMs", "agentStartTimeoutMs", "turnStallTimeoutMs", "unreachableTimeoutMs"] as const) {
    const value = settings[name];
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) return refuse(name, `must be a finite number of milliseconds > 0, got ${String(value)}`);
  }
  const { maxAttempts, initialDelayMs, maxDelayMs, multiplier, jitter } = settings.retry;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) return refuse("retry.maxAttempts", `must be an integer >= 1, got ${String(maxAttempts)}`);
  for (const [name, value] of [["retry.initialDelayMs", initialDelayMs], ["retry.maxDelayMs", maxDelayMs]] as const) {
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) return refuse(name, `must be a finite number of milliseconds >= 0, got ${String(value)}`);
  }
  if (typeof multiplier !== "number" || !Number.isFinite(multiplier) || multiplier < 1) return refuse("retry.multiplier", `must be a finite number >= 1, got ${String(multiplier)}`);
  if (typeof jitter !== "number" || !(jitter >= 0 && jitter <= 1)) return refuse("retry.jitter", `must be between 0 and 1, got ${String(jitter)}`);
  return { ok: true };
}

function refuse(setting: string, why: string): SettingsCheck {
  return { ok: false, setting, message: `${setting} ${why}` };
}
