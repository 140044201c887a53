import type { CopilotClient } from "@github/copilot-sdk";
import { Socket } from "node:net";

/** The part of vscode-jsonrpc's MessageConnection the SDK client keeps as `connection`. */
interface ClosableConnection {
  onClose(listener: () => void): { dispose(): void };
}

/**
 * Calls `onClosed` when a started client's connection to the runtime closes: its TCP socket's
 * `close` (a `RuntimeConnection.forUri` client; an `error` is always followed by it) or, for a
 * spawned runtime's stdio, the JSON-RPC connection's close. Returns a function that stops watching.
 * Both are SDK internals (1.0.14): anything not found is left alone, and the heartbeat still finds
 * a lost connection, only later.
 */
export function watchConnection(client: CopilotClient, onClosed: () => void): () => void {
  const internals = client as unknown as { socket?: unknown; connection?: unknown };
  const stops: (() => void)[] = [];
  const socket = internals.socket;
  if (socket instanceof Socket) {
    socket.once("close", onClosed);
    stops.push(() => socket.off("close", onClosed));
  }
  const connection = internals.connection;
  if (isClosable(connection)) {
    const subscription = connection.onClose(onClosed);
    stops.push(() => subscription.dispose());
  }
  return () => {
    for (const stop of stops) stop();
  };
}

function isClosable(value: unknown): value is ClosableConnection {
  return typeof value === "object" && value !== null && typeof (value as { onClose?: unknown }).onClose === "function";
}
