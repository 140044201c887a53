import { ServiceError } from "./serviceError.js";

/** Which browser origins may do what. */
export interface OriginPolicy {
  /** CORS: a page of this origin may call the API and read its answers (it gets the CORS headers). */
  corsAllows(origin: string): boolean;
  /**
   * A state-changing request sent by a page of `origin` may proceed: the origin is allowed, or it is
   * the service's own (its host is the request's `Host`, already on the allow-list).
   */
  mayChangeState(origin: string, host: string | undefined): boolean;
}

/**
 * Origins are explicit: none is allowed unless configured (CORS off), `*` is not accepted, and a
 * configured origin is scheme, host and port only (`https://app.example.com`).
 *
 * @example
 * const policy = createOriginPolicy(["https://app.example.com"]);
 * policy.mayChangeState("https://evil.example", "api.example.com"); // false
 * @throws ServiceError `INVALID_CONFIG` for an entry that is not an origin.
 */
export function createOriginPolicy(allowedOrigins: readonly string[]): OriginPolicy {
  const allowed = new Set(allowedOrigins.map(normalizeOrigin));
  const corsAllows = (origin: string) => allowed.has(origin.toLowerCase());
  return {
    corsAllows,
    mayChangeState: (origin, host) => corsAllows(origin) || sameOrigin(origin, host),
  };
}

function normalizeOrigin(entry: string): string {
  const trimmed = entry.trim();
  let url: URL | undefined;
  try {
    url = new URL(trimmed);
  } catch {
    url = undefined;
  }
  const onlyOrigin = url !== undefined && /^https?:$/.test(url.protocol) && url.pathname === "/" && url.search === "" && url.hash === "" && url.username === "" && url.password === "";
  if (url === undefined || !onlyOrigin) {
    throw new ServiceError("INVALID_CONFIG", `allowed origin ${JSON.stringify(entry)} must be an origin such as https://app.example.com (scheme, host, port; no path, no *)`);
  }
  return url.origin;
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined || origin === "null") return false;
  try {
    const page = new URL(origin);
    // The Host header as the page's scheme would write it (its default port left out).
    return page.host === new URL(`${page.protocol}//${host}`).host;
  } catch {
    return false;
  }
}
