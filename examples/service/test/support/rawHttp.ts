import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { connect, type Socket } from "node:net";

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  /** The body parsed as JSON, or `{}` when it is not JSON. */
  readonly body: Record<string, unknown>;
}

export interface RawRequestOptions {
  readonly method?: string;
  /** Sent as is: `Host`, `Origin` and anything `fetch` would not let a test set. */
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/** One request on a fresh connection, with exactly the headers given (`node:http`, not `fetch`). */
export function rawRequest(url: string, options: RawRequestOptions = {}): Promise<RawResponse> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: options.method ?? "GET", headers: options.headers ?? {}, agent: false },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (text += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text, body: parseJson(text) }));
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(options.body);
  });
}

/** A TCP connection to the service, to speak HTTP by hand (slowly, or not at all). */
export interface RawConnection {
  readonly socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves when the server closed the connection (or it failed). */
  readonly closed: Promise<void>;
}

/** Connects and resolves once connected. */
export function openConnection(url: string): Promise<RawConnection> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(target.port), target.hostname);
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (received += chunk));
    const closed = new Promise<void>((done) => socket.once("close", () => done()));
    socket.on("error", () => undefined); // a reset is a close, for these tests
    socket.once("connect", () => resolve({ socket, received: () => received, closed }));
    socket.once("error", reject);
  });
}

function parseJson(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
