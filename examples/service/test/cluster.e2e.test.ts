import { startSimulator, type Simulator } from "@cloudsession/simulator";
import { openPostgresStore, type EventStore } from "@cloudsession/store";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startService, type RunningService } from "../src/index.js";
import { eventually, request } from "./support/http.js";

// Two service instances on one PostgreSQL schema, in cluster mode: any instance answers for any
// session, and a prompt posted to one reaches the session on the other.
const postgresUrl = process.env.CLOUDSESSION_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = `service_cluster_${Date.now().toString(36)}`;

let sim: Simulator;
let reachable = false;
const stores: EventStore[] = [];
const services: RunningService[] = [];

async function instance(instanceId: string): Promise<RunningService> {
  const store = await openPostgresStore({ connectionString: postgresUrl, schema, poolSize: 4 });
  stores.push(store);
  const service = await startService({ port: 0, store, engine: { runtimeUrl: sim.url, heartbeatMs: 0, cluster: { instanceId, leaseTtlMs: 2_000, pollMs: 50 } } });
  services.push(service);
  return service;
}

beforeAll(async () => {
  const probe = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 2_000 });
  reachable = await probe.connect().then(
    () => true,
    () => false,
  );
  await probe.end().catch(() => undefined);
  if (!reachable) console.warn(`cluster.e2e: PostgreSQL at ${postgresUrl} is not reachable; the cluster test is skipped`);
  sim = await startSimulator({ seed: 9, timeScale: 0.01, defaults: { noise: false, reply: (prompt: string) => `ack ${prompt}` } });
});

afterAll(async () => {
  for (const service of services) await service.close();
  for (const store of stores) await store.close();
  await sim.close();
  if (reachable) {
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
});

type View = { state: string; prompts: { text: string; status: string }[] };

describe("two service instances sharing one PostgreSQL", () => {
  test("a prompt posted to the instance that does not own the session reaches it once; a shutdown hands the session over", async (context) => {
    if (!reachable) context.skip();
    const a = await instance("web-a");
    const b = await instance("web-b");
    const started = await request("POST", `${a.url}/sessions`, { repository: { owner: "octo", name: "cluster" }, prompts: ["to a"] });
    expect(started.status).toBe(202);
    const id = started.body.id as string;
    const completedOn = (service: RunningService, count: number) => async () => {
      const response = await request("GET", `${service.url}/sessions/${id}`);
      const current = response.body as unknown as View;
      return response.status === 200 && current.prompts.filter((prompt) => prompt.status === "completed").length === count ? current : undefined;
    };
    await eventually("the first turn, seen from b", completedOn(b, 1));

    const posted = await request("POST", `${b.url}/sessions/${id}/prompts`, { prompt: "via b" });
    expect(posted.status).toBe(202);
    const seen = await eventually("the forwarded prompt's turn, seen from a", completedOn(a, 2));
    expect(seen.prompts.map((prompt) => prompt.text)).toEqual(["to a", "via b"]);

    // A shuts down gracefully: b takes the session over at once and goes on serving it.
    await a.close();
    const after = await request("POST", `${b.url}/sessions/${id}/prompts`, { prompt: "after a left" });
    expect(after.status).toBe(202);
    await eventually("the third turn, on b", completedOn(b, 3));
    const sessionId = b.engine.get(id)?.sessionId ?? "";
    expect(sim.stats.sessions.get(sessionId)?.promptsReceived).toEqual(["to a", "via b", "after a left"]);

    const closed = await request("DELETE", `${b.url}/sessions/${id}`);
    expect(closed.status).toBeLessThan(300);
  });
});
