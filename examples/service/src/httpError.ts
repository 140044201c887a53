/** An answer other than 2xx that a handler or hook chose; turned into `{ statusCode, code, error, message, requestId }`. */
export class HttpError extends Error {
  override readonly name = "HttpError";
  /** Sent as `Retry-After` (seconds) when set. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    options: { retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}
