import type { IncomingMessage } from "node:http";
import { DashboardError } from "../dashboardError.js";

/** Larger than the engine's default prompt limit (256 KiB), so the engine's own refusal is what a person sees. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Reads a JSON object body. Only `application/json` is taken: a cross-site form cannot send it
 * without a CORS preflight, which this server never grants.
 *
 * @throws DashboardError `UNSUPPORTED_MEDIA_TYPE`, `BODY_TOO_LARGE`, `INVALID_REQUEST`.
 */
export async function readJsonBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  const type = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") throw new DashboardError("UNSUPPORTED_MEDIA_TYPE", 415, "send application/json");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new DashboardError("BODY_TOO_LARGE", 413, `the request body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  let value: unknown;
  try {
    value = text === "" ? {} : JSON.parse(text);
  } catch {
    throw new DashboardError("INVALID_REQUEST", 400, "the body is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new DashboardError("INVALID_REQUEST", 400, "the body must be a JSON object");
  return value as Record<string, unknown>;
}
