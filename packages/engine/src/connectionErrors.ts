/** The message of anything thrown. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Whether an SDK call failed because the connection to the runtime is gone (not because the runtime refused). */
export function isConnectionError(error: unknown): boolean {
  const message = errorMessage(error);
  return /connection (?:is |got |was |has been )?(?:closed|disposed|lost|reset|ended)|ECONNRESET|EPIPE|not connected|write after end|socket|Client not connected/i.test(message);
}
