import { createRequire } from "node:module";
import { createServer, Socket, type AddressInfo, type Server } from "node:net";
import { createMessageConnection, ReadableStreamMessageReader, StreamMessageReader, StreamMessageWriter } from "vscode-jsonrpc/node.js";
import { describe, expect, test } from "vitest";
import { installPartialMessageTimerGuard } from "../src/partialMessageTimerGuard.js";

/** The reader's pending partial-message timer (a vscode-jsonrpc internal, read to see it armed). */
function partialTimer(reader: StreamMessageReader): unknown {
  return (reader as unknown as { partialMessageTimer?: unknown }).partialMessageTimer;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > 5_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A peer that writes a message's header and the start of its body, then waits to be told to close. */
async function halfWritingPeer(): Promise<{ server: Server; port: number; closeConnection: () => void }> {
  let peer: Socket | undefined;
  const server = createServer((socket) => {
    peer = socket;
    socket.write('Content-Length: 100\r\n\r\n{"jsonrpc":');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port, closeConnection: () => peer?.destroy() };
}

describe("partial message timer guard (vscode-jsonrpc 8.2.1)", () => {
  test("a connection closed mid-message leaves no timer behind", async () => {
    installPartialMessageTimerGuard(); // what every createEngine does
    const { server, port, closeConnection } = await halfWritingPeer();
    const socket = new Socket();
    await new Promise<void>((resolve) => socket.connect(port, "127.0.0.1", resolve));
    const reader = new StreamMessageReader(socket);
    const connection = createMessageConnection(reader, new StreamMessageWriter(socket));
    connection.listen();
    try {
      // Half a message arrived: the library waits for the rest with a timer, as it should.
      await until(() => partialTimer(reader) !== undefined, "the partial message timer");
      closeConnection();
      await until(() => socket.destroyed, "the connection to close");
      // Without the guard the timer stays armed, and re-arms every 10 s for good.
      expect(partialTimer(reader)).toBeUndefined();
    } finally {
      connection.dispose();
      socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("disposing a reader mid-message stops its timer too", async () => {
    installPartialMessageTimerGuard();
    const { server, port } = await halfWritingPeer();
    const socket = new Socket();
    await new Promise<void>((resolve) => socket.connect(port, "127.0.0.1", resolve));
    const reader = new StreamMessageReader(socket);
    reader.listen(() => undefined);
    try {
      await until(() => partialTimer(reader) !== undefined, "the partial message timer");
      reader.dispose();
      expect(partialTimer(reader)).toBeUndefined();
    } finally {
      socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("the SDK reads through the very copy of vscode-jsonrpc the guard patches", () => {
    // Were the SDK to move to another vscode-jsonrpc, the guard would patch a copy nobody uses.
    const fromSdk = createRequire(createRequire(import.meta.url).resolve("@github/copilot-sdk"))("vscode-jsonrpc/node.js") as { ReadableStreamMessageReader: unknown };
    expect(fromSdk.ReadableStreamMessageReader).toBe(ReadableStreamMessageReader);
  });
});
