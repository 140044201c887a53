import type { CopilotClient } from "@github/copilot-sdk";
import { Socket } from "node:net";

/**
 * Turns Nagle's algorithm off on a started client's TCP connection (`RuntimeConnection.forUri`);
 * true when there was one. The SDK (1.0.14) writes each JSON-RPC message as two writes, header then
 * body, on a socket left with Nagle on: the body waits for the header's ACK, which the runtime's
 * side delays up to 40 ms. Measured against the simulator, a sequential `ping` took 46 ms, and
 * 0.4 ms with Nagle off; an engine holding 3,000 sessions closed in 0.43 s, where 223 of them were
 * detached in the 10 s the close was given before.
 * The socket is an SDK internal: this looks for it and leaves anything else (stdio pipes) alone.
 *
 * The engine does this for the clients it makes; call it for a client you hand to the engine.
 *
 * @example
 * ```ts
 * const client = new CopilotClient({ connection: RuntimeConnection.forUri(url) });
 * await client.start();
 * disableNagle(client);
 * ```
 */
export function disableNagle(client: CopilotClient): boolean {
  const socket: unknown = (client as unknown as { socket?: unknown }).socket;
  if (!(socket instanceof Socket)) return false;
  socket.setNoDelay(true);
  return true;
}
