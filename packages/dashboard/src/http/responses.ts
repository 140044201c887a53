import type { ServerResponse } from "node:http";
import type { ApiError } from "../protocol.js";

/**
 * What the page may load: only its own origin. The browser enforces it too, so a page that tried
 * to reach another host would fail loudly in development, not leak quietly in production.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers every answer carries. */
export function baseHeaders(contentType: string): Record<string, string> {
  return {
    "content-type": contentType,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-resource-policy": "same-origin",
  };
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { ...baseHeaders("application/json; charset=utf-8"), "cache-control": "no-store", "content-length": Buffer.byteLength(text) });
  response.end(text);
}

export function sendError(response: ServerResponse, status: number, error: ApiError): void {
  if (error.retryAfterMs !== undefined) response.setHeader("retry-after", String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))));
  sendJson(response, status, error);
}
