import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";

/** A request that tried to leave 127.0.0.1 through the proxy, and was refused. */
export interface OutboundAttempt {
  /** `CONNECT` (HTTPS tunnel) or the method of an absolute-form (plain HTTP proxy) request. */
  readonly method: string;
  /** `host:port` for CONNECT, the absolute URL otherwise. */
  readonly target: string;
  readonly at: number;
}

/** What the refusing proxy saw. Every attempt was refused: nothing was forwarded, ever. */
export interface OutboundLog {
  readonly attempts: OutboundAttempt[];
  /** Tunnels or forwards that succeeded. This proxy never opens one, so it stays 0; tests assert it. */
  readonly forwarded: number;
}

/**
 * Makes `server` the `HTTP(S)_PROXY` of a process under test and refuses everything it is asked to
 * forward: `CONNECT host:port` gets `403` and the socket is closed, and an absolute-form request
 * (`GET http://host/…`, a plain-HTTP proxy request) gets `403` JSON. Each attempt is recorded, so a
 * test can show that the real runtime tried to reach the internet and that nothing got through.
 *
 * The real runtime calls `https://api.github.com` directly for some lookups (it ignores
 * `COPILOT_DEBUG_GITHUB_API_URL` there), so this is the safety net, not an optional extra.
 *
 * @example
 * const server = createServer(handler);
 * const outbound = refuseOutbound(server);
 * // …run the runtime with HTTPS_PROXY=http://127.0.0.1:PORT…
 * expect(outbound.forwarded).toBe(0);
 */
export function refuseOutbound(server: Server): OutboundLog {
  const attempts: OutboundAttempt[] = [];
  server.on("connect", (request: IncomingMessage, socket: Duplex) => {
    attempts.push({ method: "CONNECT", target: request.url ?? "", at: Date.now() });
    socket.on("error", () => undefined);
    socket.end("HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"message\":\"outbound traffic refused by the test proxy\"}");
  });
  return { attempts, forwarded: 0 };
}

/**
 * Answers a plain-HTTP proxy request (absolute-form URL to a host other than the stub) with 403 and
 * records it; returns false for ordinary requests to the stub itself, which the caller handles.
 */
export function refuseProxiedRequest(log: OutboundLog, request: IncomingMessage, response: ServerResponse): boolean {
  const url = request.url ?? "";
  if (!/^[a-z]+:\/\//i.test(url)) return false;
  log.attempts.push({ method: request.method ?? "GET", target: url, at: Date.now() });
  response.writeHead(403, { "content-type": "application/json" });
  response.end(JSON.stringify({ message: "outbound traffic refused by the test proxy" }));
  return true;
}
