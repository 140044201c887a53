/** Stable codes for errors the simulator's own API throws (not JSON-RPC errors sent to clients). */
export type SimulatorErrorCode = "invalid_scenario" | "unknown_preset" | "bad_argument" | "unknown_session";

/** The one error class the simulator library throws; match on `code`, never on the message. */
export class SimulatorError extends Error {
  override readonly name = "SimulatorError";
  readonly code: SimulatorErrorCode;

  constructor(code: SimulatorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Type guard for {@link SimulatorError}, optionally narrowed to one code. */
export function isSimulatorError(value: unknown, code?: SimulatorErrorCode): value is SimulatorError {
  return value instanceof SimulatorError && (code === undefined || value.code === code);
}
