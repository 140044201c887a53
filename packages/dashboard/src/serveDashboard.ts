import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { createDashboard, type Dashboard, type DashboardOptions } from "./createDashboard.js";
import { sendError } from "./http/responses.js";

export interface ServeDashboardOptions extends DashboardOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  readonly port?: number;
}

/** A dashboard served on its own loopback port. */
export interface ServedDashboard {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  readonly port: number;
  readonly dashboard: Dashboard;
  /** Stops serving and ends the dashboard; the store stays open. */
  close(): Promise<void>;
}

/**
 * Serves a dashboard on 127.0.0.1 only, for a person on this machine (`cloudsession ui`). It has no
 * login, so it answers only to the loopback names: a page on another site that points a name of
 * its own at 127.0.0.1 (DNS rebinding) gets 403, and writes from other sites are refused anyway.
 *
 * @example
 * const served = await serveDashboard({ store });
 * console.log(`dashboard: ${served.url}`);
 */
export async function serveDashboard(options: ServeDashboardOptions): Promise<ServedDashboard> {
  const dashboard = createDashboard(options);
  let port = 0;
  const server = createServer((request, response) => {
    if (!isLoopbackHost(request, port)) {
      sendError(response, 403, { code: "FORBIDDEN", message: "this dashboard answers only to 127.0.0.1, localhost and [::1]" });
      return;
    }
    dashboard.handle(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    dashboard,
    async close() {
      await dashboard.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function isLoopbackHost(request: IncomingMessage, port: number): boolean {
  const host = request.headers.host;
  return host === `127.0.0.1:${port}` || host === `localhost:${port}` || host === `[::1]:${port}`;
}
