import { connect, type Socket } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../src/index.js";

/** A raw JSON-RPC peer: frames by hand, so it can also send garbage. */
class RawPeer {
  readonly #socket: Socket;
  #buffer = Buffer.alloc(0);
  readonly #messages: Record<string, unknown>[] = [];
  #wake: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#parse();
    });
  }

  static async open(port: number): Promise<RawPeer> {
    const socket = connect(port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    return new RawPeer(socket);
  }

  #parse(): void {
    for (;;) {
      const end = this.#buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      const match = /Content-Length: (\d+)/i.exec(this.#buffer.subarray(0, end).toString("ascii"));
      const length = Number(match?.[1]);
      if (this.#buffer.length < end + 4 + length) return;
      const body = this.#buffer.subarray(end + 4, end + 4 + length).toString("utf8");
      this.#buffer = this.#buffer.subarray(end + 4 + length);
      this.#messages.push(JSON.parse(body) as Record<string, unknown>);
      this.#wake?.();
    }
  }

  sendRaw(text: string): void {
    this.#socket.write(text);
  }

  send(body: string): void {
    this.sendRaw(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }

  async next(timeoutMs = 2000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    while (this.#messages.length === 0) {
      if (Date.now() > deadline) throw new Error("no message");
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, 20);
      });
    }
    return this.#messages.shift()!;
  }

  close(): void {
    this.#socket.destroy();
  }
}

let sim: Simulator;
let peer: RawPeer;
beforeEach(async () => {
  sim = await startSimulator({ timeScale: 0.01 });
  peer = await RawPeer.open(sim.port);
});
afterEach(async () => {
  peer.close();
  await sim.close();
});

const request = (id: number, method: string, params?: unknown): string =>
  JSON.stringify({ jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) });

describe("bad input gets JSON-RPC errors and the server stays up", () => {
  it("answers connect with protocol version 3", async () => {
    peer.send(request(0, "connect", { supportedTaskKinds: ["agent"] }));
    expect(await peer.next()).toMatchObject({ id: 0, result: { ok: true, protocolVersion: 3 } });
  });

  it("a frame that is not JSON gets -32700 with a null id", async () => {
    peer.send("{this is not json");
    expect(await peer.next()).toMatchObject({ id: null, error: { code: -32700 } });
    peer.send(request(1, "ping"));
    expect(await peer.next()).toMatchObject({ id: 1, result: { message: "pong", protocolVersion: 3 } });
    expect(sim.stats.protocolErrors).toBe(1);
  });

  it("JSON that is not JSON-RPC gets -32600", async () => {
    peer.send(JSON.stringify({ hello: "world" }));
    expect(await peer.next()).toMatchObject({ id: null, error: { code: -32600 } });
    peer.send(JSON.stringify({ jsonrpc: "2.0", id: 9 }));
    expect(await peer.next()).toMatchObject({ id: 9, error: { code: -32600 } });
    peer.send(request(2, "ping"));
    expect(await peer.next()).toMatchObject({ id: 2, result: { protocolVersion: 3 } });
  });

  it("a header without Content-Length is reported and the stream recovers", async () => {
    peer.sendRaw("X-Nonsense: 1\r\n\r\n");
    expect(await peer.next()).toMatchObject({ id: null, error: { code: -32700 } });
    peer.send(request(3, "ping"));
    expect(await peer.next()).toMatchObject({ id: 3, result: { protocolVersion: 3 } });
  });

  it("unknown methods get -32601", async () => {
    peer.send(request(4, "no.such.method", {}));
    expect(await peer.next()).toMatchObject({ id: 4, error: { code: -32601, message: "Unhandled method no.such.method" } });
    expect(sim.stats.unknownMethods).toBe(1);
  });

  it("unknown session ids and bad params get -32602 with data.reason", async () => {
    peer.send(request(5, "session.send", { sessionId: "ghost", prompt: "x" }));
    expect(await peer.next()).toMatchObject({ id: 5, error: { code: -32602, data: { reason: "session_not_found" } } });
    peer.send(request(6, "session.send", [1, 2]));
    expect(await peer.next()).toMatchObject({ id: 6, error: { code: -32602, data: { reason: "invalid_params" } } });
    peer.send(request(7, "session.create", { cloud: { repository: { owner: 5 } } }));
    expect(await peer.next()).toMatchObject({ id: 7, error: { code: -32602 } });
  });

  it("other connections are unaffected by a peer sending garbage", async () => {
    peer.send("garbage");
    const other = await RawPeer.open(sim.port);
    other.send(request(1, "status.get"));
    expect(await other.next()).toMatchObject({ id: 1, result: { protocolVersion: 3 } });
    other.close();
  });

  it("with a connection token, nothing but connect is served before the handshake", async () => {
    const guarded = await startSimulator({ timeScale: 0.01 }, { connectionToken: "t" });
    const p = await RawPeer.open(guarded.port);
    p.send(request(1, "session.list"));
    expect(await p.next()).toMatchObject({ id: 1, error: { code: -32001, data: { reason: "unauthorized" } } });
    p.send(request(2, "connect", { token: "t" }));
    expect(await p.next()).toMatchObject({ id: 2, result: { ok: true } });
    p.send(request(3, "session.list"));
    expect(await p.next()).toMatchObject({ id: 3, result: { sessions: [] } });
    p.close();
    await guarded.close();
  });

  it("listens on 127.0.0.1 only", () => {
    expect(sim.url).toBe(`127.0.0.1:${sim.port}`);
  });
});
