import { createServer, connect, type Server, type Socket } from "node:net";

/**
 * A loopback TCP proxy between the engine and a runtime, to cut the network in between: `cut()`
 * destroys every connection (as a dropped link would), `refuse(true)` turns new ones away (the
 * runtime unreachable) until `refuse(false)`. The runtime on the far side keeps running.
 */
export interface TcpProxy {
  /** `127.0.0.1:PORT`, for `runtimeUrl`. */
  readonly url: string;
  cut(): number;
  refuse(refusing: boolean): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const [host, port] = splitHostPort(target);
  const open = new Set<Socket>();
  let refusing = false;
  const server: Server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = connect({ host, port });
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.setNoDelay(true);
      socket.on("error", () => undefined);
      socket.on("close", () => {
        open.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the proxy has no TCP address");
  return {
    url: `127.0.0.1:${address.port}`,
    cut() {
      const sockets = [...open];
      for (const socket of sockets) socket.destroy();
      return sockets.length;
    },
    refuse(value) {
      refusing = value;
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function splitHostPort(target: string): [string, number] {
  const at = target.lastIndexOf(":");
  return [target.slice(0, at), Number(target.slice(at + 1))];
}
