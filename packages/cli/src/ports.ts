import { createServer } from "node:net";
import { InvalidArgumentError } from "commander";
import { CliError } from "./cliError.js";

/**
 * Commander parser for a TCP port option: an integer from 0 (a free one) to 65535; anything else
 * is a usage error (exit 2).
 *
 * @example
 * parsePort("4321") // 4321
 */
export function parsePort(value: string): number {
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) {
    throw new InvalidArgumentError("expected a port: an integer from 0 (any free port) to 65535");
  }
  return parsed;
}

/** True for the error a listen on a taken address gives. */
export function isAddressInUse(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "EADDRINUSE";
}

/**
 * The `PORT_IN_USE` error (exit 2) for a port given with `option` (`--port`, `--inspect`), with how
 * to get past it.
 */
export function portInUseError(port: number, option: string, cause?: unknown): CliError {
  return new CliError("PORT_IN_USE", `port ${port} on 127.0.0.1 (${option}) is already in use by another process`, {
    hint: `pick another port, or leave the port out to get a free one; \`ss -ltnp 'sport = :${port}'\` shows who holds it`,
    cause,
  });
}

/**
 * Fails with `PORT_IN_USE` when `port` (not 0) cannot be listened on at 127.0.0.1: checked before a
 * server that would otherwise only fail half-started.
 */
export async function assertPortFree(port: number, option: string): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once("error", reject);
      probe.listen(port, "127.0.0.1", () => resolve());
    });
  } catch (error) {
    if (isAddressInUse(error)) throw portInUseError(port, option, error);
    throw error;
  } finally {
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  }
}

/** Runs `listen` (a server start on `port`), turning a taken port into `PORT_IN_USE` (a race with {@link assertPortFree}). */
export async function listeningOn<T>(port: number, option: string, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    if (isAddressInUse(error)) throw portInUseError(port, option, error);
    throw error;
  }
}
