import type { IncomingMessage } from "node:http";
import { DashboardError } from "../dashboardError.js";

/**
 * Refuses a write that another site's page made the browser send (CSRF): browsers name the page's
 * origin in `Origin` and say in `Sec-Fetch-Site` where it came from. A request without either
 * (curl, a script) is not a browser acting for another site and passes.
 *
 * @throws DashboardError `FORBIDDEN`
 */
export function assertSameOrigin(request: IncomingMessage): void {
  const site = request.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") {
    throw new DashboardError("FORBIDDEN", 403, `a ${site} request may not act on sessions`);
  }
  const origin = request.headers.origin;
  if (origin === undefined) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    throw new DashboardError("FORBIDDEN", 403, "the Origin header is not a URL");
  }
  if (host !== request.headers.host) throw new DashboardError("FORBIDDEN", 403, `requests from ${origin} may not act on sessions`);
}
