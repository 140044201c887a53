import { connect } from "node:net";
import { CliError } from "./cliError.js";

/** `host:port` as `--runtime` takes it. */
export interface RuntimeAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `--runtime` in the forms the SDK takes (`host:port`, `[ipv6]:port`, `http://host:port`,
 * or a bare port on localhost); anything else is a usage error (exit 2).
 *
 * @example
 * parseRuntimeAddress("127.0.0.1:4321", "cloudsession") // { host: "127.0.0.1", port: 4321 }
 */
export function parseRuntimeAddress(text: string, command: string): RuntimeAddress {
  const bare = text.trim().replace(/^https?:\/\//, "");
  const match = /^(?:(\[[^\]]+\]|[^:\s[\]]*):)?(\d{1,5})$/.exec(bare);
  const port = Number(match?.[2]);
  if (match === null || port < 1 || port > 65_535) {
    throw new CliError("USAGE", `--runtime expects host:port, got "${text}"`, { hint: `e.g. --runtime 127.0.0.1:4321 for a runtime started with \`${command} sim --port 4321\`` });
  }
  const host = (match[1] ?? "").replace(/^\[|\]$/g, "");
  return { host: host === "" ? "localhost" : host, port };
}

/** Why a TCP connection failed, in words, from its error code. */
function reason(error: unknown): string {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused (ECONNREFUSED): nothing is listening there";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `the host name does not resolve (${code})`;
    case "ETIMEDOUT":
      return "the connection timed out (ETIMEDOUT)";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `the host cannot be reached (${code})`;
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Checks that a runtime listens at `--runtime host:port` before a session is started there: a
 * refused connection is reported at once, by name, instead of as a reservation deadline later.
 * `command` is how the user calls the CLI, for the hint.
 */
export async function assertRuntimeReachable(text: string, command: string, timeoutMs = 5_000): Promise<void> {
  const { host, port } = parseRuntimeAddress(text, command);
  try {
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host, port, timeout: timeoutMs });
      socket.once("connect", () => {
        socket.destroy();
        resolve();
      });
      socket.once("timeout", () => {
        socket.destroy();
        reject(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" }));
      });
      socket.once("error", reject);
    });
  } catch (error) {
    throw new CliError("RUNTIME_UNAVAILABLE", `cannot reach the Copilot runtime at ${text}: ${reason(error)}`, {
      hint: `start one with \`${command} sim --port ${port}\` in another terminal (or check the address given to --runtime), then run this again; without --runtime the bundled simulator runs in this process`,
      cause: error,
    });
  }
}
