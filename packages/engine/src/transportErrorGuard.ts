/**
 * vscode-jsonrpc 8.2.1 (used by the Copilot SDK) sends a request from an `async` Promise executor
 * and re-throws a failed socket write from it: the caller's promise is rejected properly, but the
 * executor's own promise is rejected too and nobody can handle it. On a connection that has just
 * died, one `session.send` or `ping` therefore raises an unhandled `EPIPE` rejection, which crashes
 * Node by default. The engine survives a lost connection by design, so it must not let that crash
 * its host: this guard swallows exactly those write errors and nothing else.
 */
let installed = false;

const writeErrorCodes = new Set(["EPIPE", "ECONNRESET", "ERR_STREAM_DESTROYED", "ERR_STREAM_WRITE_AFTER_END"]);

export function isOrphanedWriteError(reason: unknown): boolean {
  if (!(reason instanceof Error)) return false;
  const { code, syscall } = reason as Error & { code?: unknown; syscall?: unknown };
  if (typeof code === "string" && writeErrorCodes.has(code) && (syscall === "write" || syscall === undefined)) return true;
  return reason.message === "This socket has been ended by the other party";
}

export function installTransportErrorGuard(): void {
  if (installed) return;
  installed = true;
  process.on("unhandledRejection", (reason) => {
    if (isOrphanedWriteError(reason)) return;
    // Another handler decides for the host; alone, keep Node's default (crash on unhandled).
    if (process.listenerCount("unhandledRejection") > 1) return;
    throw reason;
  });
}
