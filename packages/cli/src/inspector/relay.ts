import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { WebSocket, WebSocketServer } from "ws";

/** A running inspector relay. */
export interface InspectorRelay {
  /** The page to open in a browser: it bridges the relay to the Stately inspector UI. */
  readonly url: string;
  /** Where inspectors (`createWebSocketInspector`) and pages connect. */
  readonly wsUrl: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface InspectorRelayOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  readonly port?: number;
  /** The hosted inspector UI the page embeds. */
  readonly inspectorUrl?: string;
  /** Messages kept and replayed to clients that connect later. */
  readonly bufferSize?: number;
}

function bridgePage(inspectorUrl: string): string {
  // Same bridge as @statelyai/inspect/server's page, pointed at the relay that served it (through an
  // SSH tunnel that is another port than the relay's own).
  return `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>cloudsession · Stately inspector</title>
<style>* { margin: 0; padding: 0; } html, body { height: 100%; } iframe { width: 100%; height: 100%; border: none; }</style>
</head>
<body>
<iframe id="inspector" src=${JSON.stringify(inspectorUrl)}></iframe>
<script>
  const iframe = document.getElementById("inspector");
  const buffer = [];
  let connected = false;
  window.addEventListener("message", (e) => {
    if (e.data && e.data.type === "@statelyai.connected") {
      connected = true;
      buffer.forEach((event) => iframe.contentWindow.postMessage(event, "*"));
      buffer.length = 0;
    }
  });
  const ws = new WebSocket("ws://" + location.host);
  ws.onmessage = (event) => {
    const data = JSON.parse(event.data);
    if (connected) iframe.contentWindow.postMessage(data, "*");
    else buffer.push(data);
  };
</script>
</body>
</html>`;
}

/**
 * Starts the relay the Stately inspector talks through: an HTTP page and a WebSocket on
 * 127.0.0.1 only. `@statelyai/inspect/server` does the same job but listens on every interface and
 * opens a browser, which a CLI on a shared or headless machine must not do.
 *
 * @example
 * const relay = await startInspectorRelay();
 * console.log(`inspector: ${relay.url}`);
 * await relay.close();
 */
export async function startInspectorRelay(options: InspectorRelayOptions = {}): Promise<InspectorRelay> {
  const bufferSize = options.bufferSize ?? 2000;
  const inspectorUrl = options.inspectorUrl ?? "https://stately.ai/inspect";
  const http: Server = createServer((request, response) => {
    if (!hasLoopbackHost(request)) {
      response.writeHead(421, { "content-type": "text/plain" }).end("this relay answers for 127.0.0.1 and localhost only\n");
      return;
    }
    if (request.url !== "/" && request.url !== "/index.html") {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
    response.end(bridgePage(inspectorUrl));
  });
  const wss = new WebSocketServer({ noServer: true });
  http.on("upgrade", (request: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    const refusal = refuseUpgrade(request);
    if (refusal !== undefined) {
      socket.end(`HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(refusal)}\r\n\r\n${refusal}`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (client) => wss.emit("connection", client, request));
  });
  const buffer: string[] = [];
  wss.on("connection", (socket: WebSocket) => {
    for (const message of buffer) socket.send(message);
    socket.on("message", (data: Buffer) => {
      const message = data.toString("utf8");
      buffer.push(message);
      if (buffer.length > bufferSize) buffer.shift();
      for (const client of wss.clients) if (client !== socket && client.readyState === WebSocket.OPEN) client.send(message);
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    wsUrl: `ws://127.0.0.1:${port}`,
    port,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

const loopbackNames = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** The `Host` names a loopback name (any port: an SSH tunnel may forward another one), not one a DNS rebinding chose. */
function hasLoopbackHost(request: IncomingMessage): boolean {
  const host = request.headers.host?.toLowerCase() ?? "";
  return loopbackNames.has(host.replace(/:\d+$/, ""));
}

/**
 * Why a WebSocket may not join, if it may not. What the relay carries (repository, SDK session id,
 * Mission Control URL) is for this machine's inspectors and for the bridge page it serves itself:
 * a browser always sends `Origin`, and only the page's own origin (the `Host` it connected to) is
 * accepted; a program without `Origin` (the CLI's inspector) is not a web page and may join.
 */
function refuseUpgrade(request: IncomingMessage): string | undefined {
  if (!hasLoopbackHost(request)) return "this relay answers for 127.0.0.1 and localhost only\n";
  const origin = request.headers.origin;
  if (origin === undefined) return undefined;
  return origin.toLowerCase() === `http://${request.headers.host?.toLowerCase() ?? ""}` ? undefined : `origin ${origin} may not connect: only the relay's own page may\n`;
}
