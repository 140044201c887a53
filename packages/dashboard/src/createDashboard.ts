import type { EventStore } from "@cloudsession/store";
import type { IncomingMessage, ServerResponse } from "node:http";
import { loadAssets, type Assets } from "./clientAssets.js";
import { DashboardError } from "./dashboardError.js";
import { layoutDiagram } from "./diagram/diagramLayout.js";
import { machineGraph } from "./diagram/machineGraph.js";
import { readJsonBody } from "./http/readJsonBody.js";
import { CONTENT_SECURITY_POLICY, baseHeaders, sendError, sendJson } from "./http/responses.js";
import { assertSameOrigin } from "./http/sameOrigin.js";
import { indexPage } from "./indexPage.js";
import { openLiveFeed, type LiveFeed } from "./liveFeed.js";
import type { DiagramModel, SessionSummary } from "./protocol.js";
import { abortTurn, closeSession, sendPrompt, toApiError, type DashboardEngine } from "./sessionActions.js";
import { openSessionCatalog, type SessionCatalog } from "./sessionCatalog.js";
import { sessionDetail } from "./sessionDetail.js";
import type { StoredSummary } from "./sessionSummary.js";

export interface DashboardOptions {
  /** Where the sessions are: the list and every view come from it. */
  readonly store: EventStore;
  /**
   * The engine that runs sessions here, if any: its running sessions get actions (send a prompt,
   * abort the turn, close). Without one the dashboard only shows.
   */
  readonly engine?: DashboardEngine;
  /** The page's title; default "cloudsession". */
  readonly title?: string;
  /** How long the live feed gathers changes before sending them; default 150 ms. */
  readonly feedIntervalMs?: number;
}

/** A dashboard, ready to be mounted on any Node HTTP server. */
export interface Dashboard {
  /**
   * Answers one request. `path` is the request's path below the mount point: `/`, `/api/sessions`,
   * … (default: the request's own path, for a dashboard mounted at `/`); `""` is the mount point
   * without its slash, answered with a redirect to it.
   */
  handle(request: IncomingMessage, response: ServerResponse, path?: string): void;
  /** Resolves once the sessions list is loaded from the store and the page's bundle is ready (both happen on the first request otherwise). */
  ready(): Promise<void>;
  /** Ends the live feeds and the store subscription; the store stays open (it is the caller's). */
  close(): Promise<void>;
}

const sessionRoute = /^\/api\/sessions\/([^/]+)(?:\/(prompts|abort|close))?$/;

/**
 * Creates the dashboard: a page bundled with the package (no request leaves its origin) and a small
 * JSON API under it. Mount it with a Node server (`serveDashboard` does, on 127.0.0.1) or inside
 * another one (the example service mounts it under `/dashboard/`).
 *
 * @example
 * const dashboard = createDashboard({ store, engine });
 * createServer((request, response) => dashboard.handle(request, response)).listen(0, "127.0.0.1");
 */
export function createDashboard(options: DashboardOptions): Dashboard {
  const { store, engine } = options;
  const graph = machineGraph();
  const diagram: DiagramModel = layoutDiagram(graph);
  const feeds = new Set<LiveFeed>();
  let catalog: SessionCatalog | undefined;
  let assets: Promise<Assets> | undefined;
  let closed = false;
  const catalogOf = (): SessionCatalog => (catalog ??= openSessionCatalog(store));
  const isRunning = (id: string): boolean => engine?.get(id) !== undefined;
  const serve = (summary: StoredSummary): SessionSummary => ({ ...summary, running: !summary.final && summary.damaged === null && isRunning(summary.id) });
  // Rows are immutable (a change makes a new one): each is encoded once for every page that connects.
  const encoded = new WeakMap<StoredSummary, string>();
  const encode = (summary: StoredSummary): string => {
    const row = serve(summary);
    if (row.running) return JSON.stringify(row);
    let json = encoded.get(summary);
    if (json === undefined) encoded.set(summary, (json = JSON.stringify(row)));
    return json;
  };

  async function route(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    const method = request.method ?? "GET";
    if (path === "") {
      const url = new URL(request.url ?? "/", "http://dashboard");
      response.writeHead(308, { location: `${url.pathname}/${url.search}` }).end();
      return;
    }
    if (method === "GET" && (path === "/" || path === "/index.html")) {
      response.writeHead(200, { ...baseHeaders("text/html; charset=utf-8"), "cache-control": "no-store", "content-security-policy": CONTENT_SECURITY_POLICY });
      response.end(indexPage(options.title ?? "cloudsession"));
      return;
    }
    if (method === "GET" && path.startsWith("/assets/")) {
      const found = (await (assets ??= loadAssets())).get(path.slice(1));
      if (found === undefined) throw new DashboardError("NOT_FOUND", 404, `no asset ${path}`);
      if (request.headers["if-none-match"] === found.etag) {
        response.writeHead(304, { etag: found.etag }).end();
        return;
      }
      response.writeHead(200, { ...baseHeaders(found.contentType), "cache-control": "no-cache", etag: found.etag, "content-length": found.body.length });
      response.end(found.body);
      return;
    }
    if (method === "GET" && path === "/api/machine") return sendJson(response, 200, diagram);
    if (method === "GET" && path === "/api/sessions") {
      const sessions = catalogOf();
      await sessions.ready;
      return sendJson(response, 200, { sessions: sessions.list().map(serve), stalled: sessions.stalled ?? null });
    }
    if (method === "GET" && path === "/api/feed") {
      const sessions = catalogOf();
      await sessions.ready;
      if (closed) throw new DashboardError("DASHBOARD_CLOSED", 503, "the dashboard is closing");
      const feed = openLiveFeed(request, response, { catalog: sessions, encode, ...(options.feedIntervalMs === undefined ? {} : { intervalMs: options.feedIntervalMs }) });
      feeds.add(feed);
      void feed.done.then(() => feeds.delete(feed));
      return;
    }
    const match = sessionRoute.exec(path);
    if (match !== null) {
      const id = decodeURIComponent(match[1] ?? "");
      const action = match[2];
      if (action === undefined && method === "GET") return sendJson(response, 200, await detailOf(id));
      if (action !== undefined && method === "POST") {
        assertSameOrigin(request);
        const body = await readJsonBody(request);
        if (action === "prompts") {
          const text = body["text"];
          const promptId = body["promptId"];
          if (typeof text !== "string" || text.trim() === "") throw new DashboardError("INVALID_REQUEST", 400, "a prompt needs some text");
          if (promptId !== undefined && (typeof promptId !== "string" || !/^[A-Za-z0-9._:-]{1,100}$/.test(promptId))) {
            throw new DashboardError("INVALID_REQUEST", 400, "promptId must be 1-100 letters, digits or . _ : -");
          }
          return sendJson(response, 202, { promptId: await sendPrompt(engine, id, text, promptId) });
        }
        if (action === "abort") {
          await abortTurn(engine, id);
          return sendJson(response, 202, { session: id });
        }
        return sendJson(response, 200, { session: id, state: await closeSession(engine, id) });
      }
    }
    throw new DashboardError("NOT_FOUND", 404, `nothing at ${method} ${path}`);
  }

  async function detailOf(id: string) {
    const stream = await store.readStream(id);
    if (!stream.exists || stream.events[0]?.type !== "session.requested") throw new DashboardError("SESSION_NOT_FOUND", 404, `no session ${id} in this store`);
    try {
      return sessionDetail(graph, stream.events, isRunning(id));
    } catch (error) {
      throw new DashboardError("CORRUPTED_LOG", 500, `session ${id} cannot be shown: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }

  return {
    handle(request, response, path) {
      const own = path ?? new URL(request.url ?? "/", "http://dashboard").pathname;
      route(request, response, own).catch((error: unknown) => {
        if (response.headersSent) {
          response.destroy();
          return;
        }
        const { status, body } = toApiError(error);
        sendError(response, status, body);
      });
    },
    async ready() {
      await Promise.all([catalogOf().ready, (assets ??= loadAssets())]);
    },
    async close() {
      closed = true;
      for (const feed of feeds) feed.close();
      await catalog?.close();
    },
  };
}
