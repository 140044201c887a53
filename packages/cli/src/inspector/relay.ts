import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
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

function bridgePage(wsUrl: string, inspectorUrl: string): string {
  // Same bridge as @statelyai/inspect/server's page, pointed at our loopback relay.
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
  const ws = new WebSocket(${JSON.stringify(wsUrl)});
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
  let wsUrl = "";
  const http: Server = createServer((request, response) => {
    if (request.url !== "/" && request.url !== "/index.html") {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
    response.end(bridgePage(wsUrl, inspectorUrl));
  });
  const wss = new WebSocketServer({ server: http });
  const buffer: string[] = [];
  wss.on("connection", (socket) => {
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
  wsUrl = `ws://127.0.0.1:${port}`;
  return {
    url: `http://127.0.0.1:${port}/`,
    wsUrl,
    port,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
