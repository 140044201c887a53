import { createDashboard } from "@cloudsession/dashboard";
import type { Engine } from "@cloudsession/engine";
import type { EventStore } from "@cloudsession/store";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

export interface DashboardRoutesOptions {
  readonly engine: Engine;
  readonly store: EventStore;
}

/**
 * The sessions dashboard (`@cloudsession/dashboard`) as a Fastify plugin: register it with a
 * prefix, e.g. `app.register(dashboardRoutes, { prefix: "/dashboard", engine, store })`. It runs
 * after the service's own `onRequest` hooks (the shutdown's 503, and whatever authentication the
 * service puts there), and its actions go through the service's engine, for the sessions it runs.
 *
 * @example
 * await app.register(dashboardRoutes, { prefix: "/dashboard", engine, store });
 */
export function dashboardRoutes(fastify: FastifyInstance, options: DashboardRoutesOptions): Promise<void> {
  const dashboard = createDashboard({ store: options.store, engine: options.engine, title: "cloudsession service" });
  // The dashboard reads its own request bodies: in this plugin's scope only, Fastify leaves them unread.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser("*", (_request, _payload, done) => done(null));
  const prefix = fastify.prefix;
  const handle = (request: FastifyRequest, reply: FastifyReply): void => {
    reply.hijack();
    const path = new URL(request.raw.url ?? "/", "http://service").pathname.slice(prefix.length);
    dashboard.handle(request.raw, reply.raw, path);
  };
  fastify.all("/", handle);
  fastify.all("/*", handle);
  // Before the server waits for open requests: the dashboard's live feeds never end by themselves.
  fastify.addHook("preClose", async () => dashboard.close());
  return Promise.resolve();
}
