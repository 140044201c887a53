import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { refuseOutbound, refuseProxiedRequest, type OutboundLog } from "./refusingProxy.js";

/** The fake GitHub token the runtime is started with; the stub answers 401 for any other. */
export const FAKE_TOKEN = "fake-token-for-e2e-tests";

/** The model the stub advertises. The runtime still asks for its default (`claude-sonnet-4`). */
export const STUB_MODEL = "claude-sonnet-4.5";

/** What `/chat/completions` streams back: `text` split into `chunks` SSE frames, `chunkDelayMs` apart. */
export interface ChatScript {
  readonly text: string;
  /** Number of content chunks (default: one per word). */
  readonly chunks?: number;
  /** Pause between chunks (default 5 ms). Raise it to abort a turn mid-stream. */
  readonly chunkDelayMs?: number;
}

/** One request the stub answered (proxy attempts are in {@link CapiStub.outbound}). */
export interface StubRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Parsed JSON body, when there was one. */
  readonly body: unknown;
  /** For `/chat/completions`: the client closed the stream before it ended (an abort). */
  closedEarly?: boolean;
}

export interface CapiStub {
  /** `http://127.0.0.1:PORT`, for `COPILOT_API_URL`, `COPILOT_DEBUG_GITHUB_API_URL` and the proxies. */
  readonly url: string;
  readonly port: number;
  readonly requests: readonly StubRequest[];
  /** Everything the runtime tried to send beyond 127.0.0.1 through the proxy (all refused). */
  readonly outbound: OutboundLog;
  /** The script for the next `/chat/completions` calls (until changed). */
  setChatScript(script: ChatScript): void;
  /** Resolves when a `/chat/completions` stream has sent `chunks` content chunks. */
  streamed(chunks: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_SCRIPT: ChatScript = { text: "Hello from the stub model." };

/**
 * A loopback stand-in for everything the bundled Copilot runtime calls during a local session:
 * `GET /copilot_internal/user` (GitHub API), `GET /models`, `POST /chat/completions` (OpenAI-style
 * SSE with scripted text), 404 JSON for anything else (the built-in GitHub MCP server's
 * `/mcp/readonly` included, which the runtime tolerates). The same server is the runtime's
 * `HTTP(S)_PROXY` and refuses every outbound request (see {@link refuseOutbound}).
 *
 * @example
 * const stub = await startCapiStub();
 * stub.setChatScript({ text: "Hi there", chunkDelayMs: 10 });
 * // …start the runtime with runtimeEnv({ stubUrl: stub.url, … })…
 * await stub.close();
 */
export async function startCapiStub(): Promise<CapiStub> {
  const requests: StubRequest[] = [];
  const sockets = new Set<Socket>();
  let script = DEFAULT_SCRIPT;
  let streamedChunks = 0;
  const chunkWaiters: { chunks: number; resolve: () => void }[] = [];
  let url = "";

  const server = createServer((request, response) => {
    if (refuseProxiedRequest(outbound, request, response)) return;
    void readBody(request).then((raw) => {
      const path = (request.url ?? "/").split("?")[0] ?? "/";
      const entry: StubRequest = { method: request.method ?? "GET", path, status: 200, headers: flatHeaders(request), body: parseJson(raw) };
      requests.push(entry);
      const send = (status: number, body: unknown): void => {
        Object.assign(entry, { status });
        response.writeHead(status, { "content-type": "application/json" });
        response.end(JSON.stringify(body));
      };
      const authorised = (request.headers.authorization ?? "").endsWith(FAKE_TOKEN);
      if (request.method === "GET" && path === "/copilot_internal/user") {
        if (!authorised) return send(401, { message: "Bad credentials" });
        return send(200, copilotUser(url));
      }
      if (request.method === "GET" && path === "/models") return send(200, { data: [modelEntry(STUB_MODEL)] });
      if (request.method === "POST" && path === "/chat/completions") {
        return void streamCompletion(response, entry, script, () => {
          streamedChunks++;
          for (const waiter of [...chunkWaiters]) {
            if (streamedChunks >= waiter.chunks) {
              chunkWaiters.splice(chunkWaiters.indexOf(waiter), 1);
              waiter.resolve();
            }
          }
        });
      }
      send(404, { message: "Not Found" });
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  const outbound = refuseOutbound(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  url = `http://127.0.0.1:${port}`;

  return {
    url,
    port,
    requests,
    outbound,
    setChatScript(next) {
      script = next;
      streamedChunks = 0;
    },
    streamed(chunks, timeoutMs = 20_000) {
      if (streamedChunks >= chunks) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`the stub streamed ${streamedChunks} of ${chunks} chunks within ${timeoutMs} ms`));
        }, timeoutMs);
        chunkWaiters.push({ chunks, resolve: () => { clearTimeout(timer); resolve(); } });
      });
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  };
}

function copilotUser(base: string): Record<string, unknown> {
  return {
    login: "fidelity-bot",
    copilot_plan: "individual_pro",
    is_mcp_enabled: true,
    chat_enabled: true,
    endpoints: { api: base, telemetry: `${base}/telemetry` },
    analytics_tracking_id: "fidelity",
  };
}

function modelEntry(id: string): Record<string, unknown> {
  return {
    id,
    name: id,
    object: "model",
    vendor: "Anthropic",
    version: id,
    preview: false,
    model_picker_enabled: true,
    capabilities: {
      type: "chat",
      family: id,
      tokenizer: "o200k_base",
      supports: { streaming: true, tool_calls: true, vision: false },
      limits: { max_context_window_tokens: 200_000, max_output_tokens: 16_000, max_prompt_tokens: 128_000 },
    },
    policy: { state: "enabled", terms: "" },
    billing: { is_premium: false, multiplier: 0 },
  };
}

function splitText(text: string, chunks: number | undefined): string[] {
  if (chunks === undefined) return text.match(/\S+\s*/g) ?? [text];
  const size = Math.max(1, Math.ceil(text.length / chunks));
  const parts: string[] = [];
  for (let at = 0; at < text.length; at += size) parts.push(text.slice(at, at + size));
  return parts;
}

async function streamCompletion(response: ServerResponse, entry: StubRequest, script: ChatScript, onChunk: () => void): Promise<void> {
  const id = `chatcmpl-stub-${Date.now().toString(36)}`;
  const created = Math.floor(Date.now() / 1000);
  const model = typeof (entry.body as { model?: unknown } | undefined)?.model === "string" ? (entry.body as { model: string }).model : STUB_MODEL;
  // The client closing early (an abort) shows on `entry`, read through a call so the check
  // survives the awaits below.
  response.on("close", () => {
    if (!response.writableFinished) entry.closedEarly = true;
  });
  const closed = (): boolean => entry.closedEarly === true;
  response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  const frame = (choice: Record<string, unknown>, extra: Record<string, unknown> = {}): void => {
    response.write(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, ...choice }], ...extra })}\n\n`);
  };
  const parts = splitText(script.text, script.chunks);
  for (const [index, part] of parts.entries()) {
    if (index > 0) await sleep(script.chunkDelayMs ?? 5);
    if (closed()) return;
    frame({ delta: index === 0 ? { role: "assistant", content: part } : { content: part }, finish_reason: null });
    onChunk();
  }
  if (closed()) return;
  const completionTokens = parts.length;
  frame({ delta: {}, finish_reason: "stop" }, { usage: { prompt_tokens: 100, completion_tokens: completionTokens, total_tokens: 100 + completionTokens } });
  response.end("data: [DONE]\n\n");
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => { resolve(Buffer.concat(chunks).toString("utf8")); });
    request.on("error", () => { resolve(""); });
  });
}

function parseJson(raw: string): unknown {
  if (raw === "") return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function flatHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
